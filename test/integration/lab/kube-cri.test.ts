/**
 * Issue 19 item 1, on lab `kcrt` (2 hosts: OVS, netplugin, netmaster; containerd 1.6 with its CRI
 * plugin on each host, the lab's local pause and agnhost images; pods made through the CRI the way
 * the kubelet makes them, over containerd's socket):
 * - containerd answers CRI v1 with its CNI config loaded and the lab images, sandbox_image the pause image;
 * - RunPodSandbox: containerd runs bin/netloom-cni (recorded by a wrapper around it) with CNI_ARGS
 *   K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID and IgnoreUnknown=1 and
 *   runtimeConfig.portMappings of the ports with a host port; PodSandboxStatus network.ip is the
 *   endpoint's address in netmaster;
 * - real traffic: TCP and UDP between pods on two hosts, ping, a host port from the other host and the tor;
 * - StopPodSandbox is the CNI DEL (endpoint, OVS port and address gone); RemovePodSandbox leaves no
 *   network namespace or shim;
 * - `netloom-lab kube HOST run-pod|pods|exec|rm-pod` from the command line;
 * - crash safety: containerd, the agent, and both killed -9 mid-ADD; after the restart, the
 *   kubelet-like clean-up (not-ready sandboxes stopped and removed) and CNI GC with containerd's
 *   sandboxes: no endpoint in netmaster, no OVS port, no address held, no network namespace; CNI GC
 *   alone releases an attachment whose sandbox containerd does not know and keeps the live pods';
 * - down removes containerd, shims, pods, mounts, cgroups and shim sockets.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { isAlive, listProcesses } from '../../../lib/process';
import type { LabStatus } from '../../../deploy/lab/lab';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { ovsEnv } from '../../../deploy/lab/ovs-instance';
import { cniCall } from '../../../deploy/lab/cni-call';
import { POD_CNI_NETWORK, POD_NETWORK, POD_TENANT, shimPids, shimSocketPath } from '../../../deploy/lab/containerd';
import { containerdPaths, podCgroupRoot } from '../../../deploy/lab/containerd-paths';
import { labNodeConfig, labPodSpec, parsePortSpec } from '../../../deploy/lab/kube';
import { CriClient } from '../../../deploy/lab/cri/client';
import { AGNHOST_IMAGE, ensureLabImages, PAUSE_IMAGE } from '../../../deploy/lab/cri/images';
import { execInPod, findPod, killSandbox, removeSandbox, runPod } from '../../../deploy/lab/cri/pods';
import { IpamStore } from '../../../netplugin/ipam/ipam-store';
import { hostIfName } from '../../../netplugin/plumbing/veth';
import { BIN, labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'kcrt';
const lab = labCli(LAB);
const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1, netmasters: 1 });
const netctl = netctlCli(plan.netmasters[0]!.url);
const NETWORK_KEY = `${POD_TENANT}:${POD_NETWORK}`;
/** host ports of this file (the tests' range) */
const UDP_HOST_PORT = 24531;
const TCP_HOST_PORT = 24532;
const log = (msg: string) => console.log(`      [kube-cri] ${msg}`);

interface Ep {
  ipAddress: string;
  homingHost: string;
  containerID: string;
  containerName: string;
  network: string;
}

const cris = new Map<string, CriClient>();
function cri(host: string): CriClient {
  let c = cris.get(host);
  if (!c) {
    c = new CriClient(containerdPaths(plan, host).socket, { timeoutMs: 90_000 });
    cris.set(host, c);
  }
  return c;
}
/** after containerd restarts: a new channel */
function reconnect(host: string): void {
  cris.get(host)?.close();
  cris.delete(host);
}

async function status(): Promise<LabStatus> {
  return JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
}
async function agentPid(host: string): Promise<number> {
  const pid = (await status()).hosts.find((h) => h.name === host)?.agent?.pid;
  assert.ok(pid, `${host}'s agent runs`);
  return pid;
}
async function containerdPid(host: string): Promise<number> {
  const pid = (await status()).hosts.find((h) => h.name === host)?.agent?.containerd;
  assert.ok(pid, `${host}'s containerd runs`);
  return pid;
}

async function endpoints(): Promise<Ep[]> {
  return (JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Ep[]).filter((e) => e.network === NETWORK_KEY);
}
/** the host's br-int ports of attachments (netloom's `nl` + 11 hex digits; not the gateway, patch or tunnel ports) */
async function ovsPorts(host: string): Promise<string[]> {
  const h = plan.hosts.find((x) => x.name === host)!;
  const r = await run('ovs-vsctl', ['--timeout=10', 'list-ports', 'br-int'], { netns: h.netns, env: ovsEnv(h.ovsDir) });
  return r.stdout
    .split('\n')
    .filter((s) => /^nl[0-9a-f]{11}$/.test(s))
    .sort();
}
/** the br-int port of a pod's attachment (the agent names it after the attachment) */
const podPort = (sandboxId: string) => hostIfName(`${POD_CNI_NETWORK}/${sandboxId}/eth0`);
/** the addresses the host's agent holds for the pod network (its durable IPAM store) */
function heldAddresses(host: string): string[] {
  const f = `${agentPaths(plan, host).stateDir}/ipam.json`;
  if (!existsSync(f)) return [];
  return new IpamStore(f)
    .load()
    .allocations()
    .filter((a) => a.networkKey === NETWORK_KEY)
    .map((a) => a.address)
    .sort();
}
/** the pods' network namespaces containerd holds on the host */
function podNetns(host: string): string[] {
  const d = join(containerdPaths(plan, host).state, 'io.containerd.grpc.v1.cri', 'netns');
  return existsSync(d) ? readdirSync(d).sort() : [];
}

interface HostView {
  endpoints: string[];
  ports: string[];
  addresses: string[];
  netns: string[];
}
/** what a host holds for pods: endpoints in netmaster, br-int ports, IPAM addresses, namespaces */
async function view(host: string): Promise<HostView> {
  return {
    endpoints: (await endpoints())
      .filter((e) => e.homingHost === host)
      .map((e) => `${e.containerName} ${e.ipAddress}`)
      .sort(),
    ports: await ovsPorts(host),
    addresses: heldAddresses(host),
    netns: podNetns(host),
  };
}

const node = (host: string) => labNodeConfig(plan, host);

/** Run the lab's agnhost program (the images' binary) in a host's or the tor's namespace. */
async function agnhostIn(netns: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await run((await ensureLabImages()).nlpod, args, { netns, allowFailure: true, timeoutMs: 20_000 });
  return { code: r.code, out: r.stdout.trim() };
}

/** What the recording wrapper saw of one netloom-cni run. */
interface Recorded {
  env: Record<string, string>;
  stdin: Record<string, unknown>;
}

/**
 * Replace the host's netloom-cni in containerd's CNI bin dir by a wrapper that records each call's
 * CNI_* variables and stdin, then runs the real plugin with that stdin; `fn` runs meanwhile.
 */
async function recording<T>(host: string, fn: (calls: (command: string) => Recorded[]) => Promise<T>): Promise<T> {
  const p = containerdPaths(plan, host);
  const dir = join(p.dir, 'recorded');
  rmSync(dir, { recursive: true, force: true });
  const plugin = join(p.cniBin, 'netloom-cni');
  const script = [
    '#!/bin/sh',
    `d=${dir}; mkdir -p "$d"; f="$d/$CNI_COMMAND.$$"`,
    `env | grep '^CNI_' > "$f.env"`,
    'cat > "$f.in"',
    `exec /bin/sh ${BIN}/netloom-cni < "$f.in"`,
    '',
  ].join('\n');
  rmSync(plugin, { force: true });
  writeFileSync(plugin, script, { mode: 0o755 });
  const calls = (command: string): Recorded[] =>
    (existsSync(dir) ? readdirSync(dir) : [])
      .filter((f) => f.startsWith(`${command}.`) && f.endsWith('.env'))
      .map((f) => {
        const base = join(dir, f.slice(0, -'.env'.length));
        const env = Object.fromEntries(
          readFileSync(`${base}.env`, 'utf8')
            .split('\n')
            .filter((l) => l.includes('='))
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
        return { env, stdin: JSON.parse(readFileSync(`${base}.in`, 'utf8')) as Record<string, unknown> };
      });
  try {
    return await fn(calls);
  } finally {
    rmSync(plugin, { force: true });
    symlinkSync(`${BIN}/netloom-cni`, plugin);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CNI_ARGS as a map. */
function cniArgs(s: string | undefined): Record<string, string> {
  return Object.fromEntries((s ?? '').split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** A netloom-cni ADD that containerd runs for pod `name` on `host` (the plugin process, found by its environment). */
function pendingAdd(host: string, name: string): number | undefined {
  const plugin = join(containerdPaths(plan, host).cniBin, 'netloom-cni');
  for (const p of listProcesses()) {
    if (!p.cmdline.includes(plugin)) continue;
    try {
      const env = readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0');
      const args = env.find((e) => e.startsWith('CNI_ARGS='));
      if (env.includes('CNI_COMMAND=ADD') && cniArgs(args?.slice('CNI_ARGS='.length)).K8S_POD_NAME === name) return p.pid;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('pods through containerd CRI on lab hosts (2 hosts; kubelet-like calls, netloom-cni)', function () {
  this.timeout(180_000);
  /** sandboxes made here, for the shim-socket check after down */
  const sandboxIds: string[] = [];

  before(async function () {
    this.timeout(600_000);
    await lab(['down'], true);
    const t0 = Date.now();
    await lab(['up', '--hosts', '2', '--containerd'], false, 600_000);
    log(`lab up with containerd on 2 hosts in ${Date.now() - t0} ms`);
  });

  after(async function () {
    this.timeout(120_000);
    for (const c of cris.values()) c.close();
    cris.clear();
    await lab(['down'], true, 120_000);
  });

  it('containerd answers CRI v1 on each host with its CNI config loaded, the lab images, and the pause image as sandbox_image', async () => {
    for (const h of plan.hosts) {
      const v = await cri(h.name).version();
      assert.equal(v.runtimeName, 'containerd');
      assert.equal(v.runtimeApiVersion, 'v1');
      assert.match(v.runtimeVersion, /^1\.6\./);
      const s = await cri(h.name).status(true);
      assert.deepEqual(
        s.status?.conditions.map((c) => [c.type, c.status]),
        [
          ['RuntimeReady', true],
          ['NetworkReady', true],
        ],
      );
      assert.equal((JSON.parse(s.info.config ?? '{}') as { sandboxImage?: string }).sandboxImage, PAUSE_IMAGE);
      for (const image of [PAUSE_IMAGE, AGNHOST_IMAGE]) assert.ok(await cri(h.name).imageStatus(image), `${image} on ${h.name}`);
    }
  });

  const web = labPodSpec({
    name: 'web',
    namespace: 'shop',
    labels: { app: 'web' },
    ports: [parsePortSpec('http:80/TCP'), parsePortSpec(`dns:53/UDP:${UDP_HOST_PORT}`), parsePortSpec(`alt:81/TCP:${TCP_HOST_PORT}`)],
  });
  let webIp = '';
  let webSandbox = '';

  it('RunPodSandbox: netloom-cni runs with the pod identity in CNI_ARGS and the host ports in runtimeConfig; the sandbox has its endpoint address', async () => {
    const before = await view('host1');
    await recording('host1', async (calls) => {
      const r = await runPod(cri('host1'), web, node('host1'));
      webSandbox = r.sandboxId;
      webIp = r.ip;
      sandboxIds.push(r.sandboxId);
      log(`web on host1: ${r.ip}, sandbox ready in ${Math.round(r.sandboxReadyMs)} ms`);
      const adds = calls('ADD');
      assert.equal(adds.length, 1, 'one ADD');
      const add = adds[0]!;
      assert.deepEqual(cniArgs(add.env.CNI_ARGS), {
        K8S_POD_NAMESPACE: 'shop',
        K8S_POD_NAME: 'web',
        K8S_POD_INFRA_CONTAINER_ID: r.sandboxId,
        K8S_POD_UID: web.uid,
        IgnoreUnknown: '1',
      });
      assert.equal(add.env.CNI_CONTAINERID, r.sandboxId);
      assert.equal(add.env.CNI_IFNAME, 'eth0');
      assert.equal(add.env.CNI_PATH, containerdPaths(plan, 'host1').cniBin);
      assert.ok(add.env.CNI_NETNS?.startsWith(join(containerdPaths(plan, 'host1').state, 'io.containerd.grpc.v1.cri', 'netns')));
      assert.equal(add.stdin.name, POD_CNI_NETWORK);
      assert.equal(add.stdin.cniVersion, '1.0.0');
      // only the ports with a host port, in go-cni's field names (the plugin reads them as Go does)
      assert.deepEqual(add.stdin.runtimeConfig, {
        portMappings: [
          { HostPort: UDP_HOST_PORT, ContainerPort: 53, Protocol: 'udp', HostIP: '' },
          { HostPort: TCP_HOST_PORT, ContainerPort: 81, Protocol: 'tcp', HostIP: '' },
        ],
      });
    });
    const st = await cri('host1').podSandboxStatus(webSandbox);
    assert.equal(st.status?.state, 'SANDBOX_READY');
    assert.equal(st.status?.network?.ip, webIp);
    const ep = (await endpoints()).find((e) => e.containerID === webSandbox);
    assert.ok(ep, 'the pod is an endpoint in netmaster');
    assert.deepEqual([ep.ipAddress, ep.homingHost, ep.containerName], [webIp, 'host1', 'web']);
    const after = await view('host1');
    assert.deepEqual(
      after.ports.filter((p) => !before.ports.includes(p)),
      [podPort(webSandbox)],
      'its OVS port',
    );
    // the host's first address of a network comes from netmaster, later ones from the host's blocks
    assert.ok(after.addresses.filter((a) => !before.addresses.includes(a)).every((a) => a === webIp));
    const pod = await findPod(cri('host1'), 'shop', 'web');
    const eth0 = await execInPod(cri('host1'), pod, ['ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(eth0.stdout, new RegExp(`inet ${webIp.replace(/\./g, '\\.')}/`));
  });

  it('real traffic: TCP and UDP between pods on two hosts, ping; the host ports from the other host and the tor', async () => {
    const client = labPodSpec({ name: 'client', namespace: 'shop' });
    const c = await runPod(cri('host2'), client, node('host2'));
    sandboxIds.push(c.sandboxId);
    const pod = await findPod(cri('host2'), 'shop', 'client');
    for (const [port, proto] of [
      [80, 'tcp'],
      [53, 'udp'],
      [81, 'tcp'],
    ] as const) {
      const r = await waitFor(
        `client (host2) -> web ${webIp}:${port}/${proto}`,
        async () => {
          const x = await execInPod(cri('host2'), pod, ['/agnhost', 'connect', `${webIp}:${port}`, '--protocol', proto, '--timeout', '2s']);
          return x.exitCode === 0 ? x : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      assert.equal(r.stdout.trim(), 'web', 'the server answers with its pod name');
    }
    const ping = await execInPod(cri('host2'), pod, ['ping', '-c', '2', '-W', '2', webIp]);
    assert.equal(ping.exitCode, 0, ping.stdout + ping.stderr);
    // a port nothing serves is refused, not answered
    const closed = await execInPod(cri('host2'), pod, ['/agnhost', 'connect', `${webIp}:82`, '--timeout', '2s']);
    assert.notEqual(closed.exitCode, 0);
    const host1Ip = plan.hosts[0]!.dataIp;
    for (const from of [plan.hosts[1]!.netns, plan.torNetns]) {
      for (const [port, proto] of [
        [UDP_HOST_PORT, 'udp'],
        [TCP_HOST_PORT, 'tcp'],
      ] as const) {
        const r = await waitFor(
          `${from} -> host1 ${host1Ip}:${port}/${proto}`,
          async () => {
            const x = await agnhostIn(from, ['connect', `${host1Ip}:${port}`, '--protocol', proto, '--timeout', '2s']);
            return x.code === 0 ? x : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.equal(r.out, 'web');
      }
    }
  });

  it('StopPodSandbox is the CNI DEL (endpoint, OVS port, address gone); RemovePodSandbox leaves no namespace, shim or sandbox', async () => {
    const withWeb = await view('host1');
    await recording('host1', async (calls) => {
      await killSandbox(cri('host1'), webSandbox, 2);
      const dels = calls('DEL');
      assert.equal(dels.length, 1, 'one DEL');
      assert.equal(dels[0]!.env.CNI_CONTAINERID, webSandbox);
      assert.equal(cniArgs(dels[0]!.env.CNI_ARGS).K8S_POD_UID, web.uid);
    });
    const stopped = await view('host1');
    assert.ok(!stopped.endpoints.some((e) => e.startsWith('web ')), 'no endpoint in netmaster');
    assert.ok(withWeb.ports.includes(podPort(webSandbox)));
    assert.ok(!stopped.ports.includes(podPort(webSandbox)), 'its OVS port is gone');
    assert.ok(!stopped.addresses.includes(webIp), 'its address is free');
    assert.equal((await cri('host1').podSandboxStatus(webSandbox)).status?.state, 'SANDBOX_NOTREADY');
    await removeSandbox(cri('host1'), webSandbox);
    assert.ok(!(await cri('host1').listPodSandbox()).some((s) => s.id === webSandbox), 'the sandbox is gone');
    assert.deepEqual(podNetns('host1'), [], 'no network namespace');
    await waitFor('the sandbox shim to exit', () => !listProcesses().some((p) => p.cmdline.includes(`-id ${webSandbox}`)), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    assert.ok(!existsSync(shimSocketPath(containerdPaths(plan, 'host1').socket, webSandbox)), 'no shim socket');
  });

  it('netloom-lab kube HOST run-pod, pods -o json, exec and rm-pod from the command line', async () => {
    const out = (await lab(['kube', 'host2', 'run-pod', 'cli', '-n', 'shop', '--port', 'http:80', '--label', 'app=cli'])).stdout.trim();
    const [ref, host, ip, sandbox] = out.split('\t');
    assert.equal(ref, 'shop/cli');
    assert.equal(host, 'host2');
    assert.match(ip ?? '', /^10\.244\./);
    sandboxIds.push(sandbox ?? '');
    const pods = JSON.parse((await lab(['kube', 'host2', 'pods', '-o', 'json'])).stdout) as Array<{
      name: string;
      ip: string;
      state: string;
      labels: Record<string, string>;
      containers: Array<{ state: string }>;
    }>;
    const cli = pods.find((p) => p.name === 'cli');
    assert.ok(cli);
    assert.equal(cli.ip, ip);
    assert.equal(cli.state, 'SANDBOX_READY');
    assert.equal(cli.labels.app, 'cli');
    assert.deepEqual(
      cli.containers.map((c) => c.state),
      ['CONTAINER_RUNNING'],
    );
    assert.equal((await lab(['kube', 'host2', 'exec', 'shop/cli', '--', 'hostname'])).stdout.trim(), 'cli');
    const failed = await lab(['kube', 'host2', 'exec', 'shop/cli', '--', '/agnhost', 'connect', '127.0.0.1:1'], true);
    assert.equal(failed.code, 1, 'exec passes the exit code on');
    await lab(['kube', 'host2', 'rm-pod', 'shop/cli']);
    assert.ok(!(await endpoints()).some((e) => e.ipAddress === ip), 'its endpoint is gone');
    assert.ok(
      !(JSON.parse((await lab(['kube', 'host2', 'pods', '-o', 'json'])).stdout) as Array<{ name: string }>).some((p) => p.name === 'cli'),
    );
    const dup = await lab(['kube', 'host2', 'run-pod', 'client', '-n', 'shop'], true);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /pod shop\/client already runs on host2/);
  });

  describe('crash safety: kill -9 mid-ADD, then the kubelet-like clean-up and CNI GC', function () {
    const host = 'host1';
    let baseline: HostView;
    let keep = '';

    before(async function () {
      this.timeout(120_000);
      // a live pod whose attachment must survive every clean-up
      const k = await runPod(cri(host), labPodSpec({ name: 'keep', namespace: 'shop' }), node(host));
      keep = k.ip;
      sandboxIds.push(k.sandboxId);
      baseline = await view(host);
    });

    after(async function () {
      this.timeout(120_000);
      // a normal agent and containerd for what follows, whatever happened here
      for (const pid of await agentPidOrNone()) process.kill(pid, 'SIGCONT');
      await run(`${BIN}/netloom-lab`, ['--lab', LAB, 'restart', host, 'netplugin'], {
        env: envWithout(),
        allowFailure: true,
        timeoutMs: 60_000,
      });
      reconnect(host);
      await lab(['kube', host, 'pods'], true);
    });

    async function agentPidOrNone(): Promise<number[]> {
      const pid = (await status()).hosts.find((h) => h.name === host)?.agent?.pid;
      return pid ? [pid] : [];
    }

    /** the keep pod still answers from host2's client */
    async function keepAnswers(): Promise<void> {
      const pod = await findPod(cri('host2'), 'shop', 'client');
      const r = await waitFor(
        `client -> keep ${keep}`,
        async () => {
          const x = await execInPod(cri('host2'), pod, ['/agnhost', 'connect', `${keep}:80`, '--timeout', '2s']);
          return x.exitCode === 0 ? x : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      assert.equal(r.stdout.trim(), 'keep');
    }

    /** After a crash: the clean-up (`kube HOST gc`) leaves the host as before the ADD, and the pod kept works. */
    async function cleanUpAndCheck(name: string, leaked: (v: HostView) => boolean): Promise<void> {
      reconnect(host);
      // containerd back (the lab starts it on demand), and with it its record of the sandbox
      await lab(['kube', host, 'pods']);
      const sandboxes = await cri(host).listPodSandbox();
      const crashed = sandboxes.filter((s) => s.metadata?.name === name);
      log(`${name}: containerd lists ${crashed.map((s) => s.state).join(', ') || 'no sandbox'} for it after the crash`);
      assert.ok(
        crashed.every((s) => s.state === 'SANDBOX_NOTREADY'),
        'a sandbox of a crashed RunPodSandbox is never ready',
      );
      const before = await view(host);
      assert.ok(leaked(before), `something was left to clean up: ${JSON.stringify(before)}`);
      const gc = await lab(['kube', host, 'gc']);
      log(`${name}: ${gc.stdout.trim().replace(/\n/g, '; ')}`);
      await waitFor(
        `${host} to hold what it held before ${name}`,
        async () => {
          const now = await view(host);
          return JSON.stringify(now) === JSON.stringify(baseline) ? now : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      ).catch(async (e: unknown) => {
        assert.deepEqual(await view(host), baseline, String(e));
      });
      assert.ok(!(await cri(host).listPodSandbox()).some((s) => s.metadata?.name === name), 'no sandbox of it');
      await keepAnswers();
    }

    it('containerd killed -9 while netloom-cni runs the ADD: its sandbox comes back not ready, the clean-up leaves nothing', async () => {
      const agent = await agentPid(host);
      const containerd = await containerdPid(host);
      // the agent holds the ADD (stopped), so containerd is killed with the plugin running
      process.kill(agent, 'SIGSTOP');
      let pending: Promise<unknown>;
      try {
        pending = runPod(cri(host), labPodSpec({ name: 'crash-ctrd', namespace: 'shop' }), node(host), { cleanUpFailed: false }).catch(
          (e: unknown) => e,
        );
        await waitFor('containerd to run netloom-cni ADD for crash-ctrd', () => pendingAdd(host, 'crash-ctrd'), {
          timeoutMs: 60_000,
          intervalMs: 50,
        });
        process.kill(containerd, 'SIGKILL');
        await waitFor('containerd to die', () => !isAlive(containerd), { timeoutMs: 10_000, intervalMs: 50 });
      } finally {
        process.kill(agent, 'SIGCONT');
      }
      assert.ok((await pending) instanceof Error, 'RunPodSandbox failed');
      // the agent finished the ADD for a runtime that is gone: an endpoint nobody asked for anymore
      await waitFor('the orphaned ADD to complete', async () => (await endpoints()).some((e) => e.containerName === 'crash-ctrd'), {
        timeoutMs: 30_000,
        intervalMs: 250,
      });
      await cleanUpAndCheck('crash-ctrd', (v) => v.endpoints.some((e) => e.startsWith('crash-ctrd ')));
    });

    it('the agent killed -9 in the middle of the ADD (its address recorded, no answer yet): RunPodSandbox fails, the clean-up leaves nothing', async () => {
      const state = agentPaths(plan, host).stateDir;
      rmSync(`${state}/paused-recorded`, { force: true });
      await run(`${BIN}/netloom-lab`, ['--lab', LAB, 'restart', host, 'netplugin'], {
        env: { ...envWithout(), NETLOOM_TEST_PAUSE_AT: 'recorded' },
        timeoutMs: 60_000,
      });
      const pending = runPod(cri(host), labPodSpec({ name: 'crash-agent', namespace: 'shop' }), node(host), { cleanUpFailed: false }).catch(
        (e: unknown) => e,
      );
      await waitFor('the agent paused at recorded', () => existsSync(`${state}/paused-recorded`), { timeoutMs: 60_000, intervalMs: 50 });
      process.kill(await agentPid(host), 'SIGKILL');
      const err = await pending;
      assert.ok(err instanceof Error, 'RunPodSandbox failed');
      log(`crash-agent: ${err.message.slice(0, 200)}`);
      await run(`${BIN}/netloom-lab`, ['--lab', LAB, 'restart', host, 'netplugin'], { env: envWithout(), timeoutMs: 60_000 });
      // the address was durable before the crash: the restarted agent still holds it
      await cleanUpAndCheck('crash-agent', (v) => v.addresses.length > baseline.addresses.length);
    });

    it('containerd and the agent both killed -9 mid-ADD: after both restart, the clean-up leaves nothing', async () => {
      const state = agentPaths(plan, host).stateDir;
      rmSync(`${state}/paused-recorded`, { force: true });
      await run(`${BIN}/netloom-lab`, ['--lab', LAB, 'restart', host, 'netplugin'], {
        env: { ...envWithout(), NETLOOM_TEST_PAUSE_AT: 'recorded' },
        timeoutMs: 60_000,
      });
      const containerd = await containerdPid(host);
      const pending = runPod(cri(host), labPodSpec({ name: 'crash-both', namespace: 'shop' }), node(host), { cleanUpFailed: false }).catch(
        (e: unknown) => e,
      );
      await waitFor('the agent paused at recorded', () => existsSync(`${state}/paused-recorded`), { timeoutMs: 60_000, intervalMs: 50 });
      process.kill(containerd, 'SIGKILL');
      process.kill(await agentPid(host), 'SIGKILL');
      assert.ok((await pending) instanceof Error, 'RunPodSandbox failed');
      await run(`${BIN}/netloom-lab`, ['--lab', LAB, 'restart', host, 'netplugin'], { env: envWithout(), timeoutMs: 60_000 });
      await cleanUpAndCheck('crash-both', (v) => v.addresses.length > baseline.addresses.length);
    });

    it("CNI GC releases an attachment whose sandbox containerd does not know, and keeps every listed sandbox's", async () => {
      const netns = `${plan.prefix}lost`;
      await run('ip', ['netns', 'add', netns]);
      try {
        const add = await cniCall({
          command: 'ADD',
          socket: agentPaths(plan, host).cniSocket,
          containerId: 'lost-sandbox-0001',
          netnsPath: `/run/netns/${netns}`,
          tenant: POD_TENANT,
          network: POD_NETWORK,
          name: POD_CNI_NETWORK,
          cniArgs: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=lost;K8S_POD_INFRA_CONTAINER_ID=lost-sandbox-0001',
        });
        assert.equal(add.code, 0, add.output);
        assert.ok((await view(host)).endpoints.some((e) => e.startsWith('lost ')));
        const gc = await lab(['kube', host, 'gc']);
        assert.match(gc.stdout, /netloom-cni\tGC ok\tkept \d+ sandbox/);
        await waitFor(`${host} back to its pods only`, async () => JSON.stringify(await view(host)) === JSON.stringify(baseline), {
          timeoutMs: 30_000,
          intervalMs: 500,
        }).catch(async (e: unknown) => {
          assert.deepEqual(await view(host), baseline, String(e));
        });
        await keepAnswers();
      } finally {
        await run('ip', ['netns', 'del', netns], { allowFailure: true });
      }
    });
  });

  describe('down', function () {
    it('down removes containerd, its shims and pods, mounts, cgroups and shim sockets', async function () {
      this.timeout(120_000);
      const sockets = plan.hosts.map((h) => containerdPaths(plan, h.name).socket);
      await lab(['down'], false, 120_000);
      for (const c of cris.values()) c.close();
      cris.clear();
      for (const s of sockets) {
        assert.deepEqual(shimPids({ socket: s }), [], `no shim of ${s}`);
        assert.ok(!listProcesses().some((p) => p.cmdline.includes(s)), `no process naming ${s}`);
        for (const id of sandboxIds) assert.ok(!existsSync(shimSocketPath(s, id)), `no shim socket of ${id}`);
      }
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
      assert.ok(!mounts.includes(`${plan.dir}/`) && !mounts.includes(`${plan.dir} `), 'no mount left under the lab dir');
      for (const h of plan.hosts)
        assert.ok(!existsSync(`/sys/fs/cgroup/memory${podCgroupRoot(plan, h.name)}`), `no pod cgroup of ${h.name}`);
      assert.ok(!existsSync(plan.dir), 'the lab dir is gone');
    });
  });
});

function envWithout(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NETLOOM_TEST_PAUSE_AT;
  return env;
}
