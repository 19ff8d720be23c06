/**
 * issue 20 parts 2 and 3: Nomad's and Mesos' CNI calls against the REAL agent (lab `nmx`: one
 * host with OVS, etcd, netmaster) and the compiled plugin (dist/bin/netloom-cni), with traffic into
 * the container's namespace through its published port (from the lab's tor, "the world").
 * No Nomad or Mesos binary is installable here, so each call is made as their source makes it:
 *  - Nomad (client/allocrunner/networking_cni.go Setup/Teardown, on containerd's go-cni and libcni):
 *    through test/cni-driver on Debian's real libcni, with the RuntimeConf go-cni builds (container
 *    ID = allocation ID, CNI_ARGS IgnoreUnknown=true + the user's `cni { args }` + NOMAD_REGION,
 *    NOMAD_NAMESPACE, NOMAD_JOB_ID, NOMAD_GROUP_NAME, NOMAD_ALLOC_ID; the portMappings capability
 *    with go-cni's PortMapping, tcp and udp per port); the result parsed by libcni with the
 *    conflist's cniVersion, converted to 1.0.0 as go-cni does and the address picked as Nomad does;
 *    CHECK as Nomad runs it after a client restart (args and ports), DEL as its Teardown (ports only).
 *  - Mesos (src/slave/containerizer/mesos/isolators/network/cni/cni.cpp attach()/detach()): the
 *    plugin run with CNI_COMMAND, CNI_CONTAINERID, CNI_PATH, CNI_IFNAME, CNI_NETNS and PATH only (no
 *    CNI_ARGS), the network configuration with `args["org.apache.mesos"].network_info` (the
 *    NetworkInfo protobuf as JSON) on stdin, the same configuration again for DEL; the result read
 *    as Mesos' spec.proto NetworkInfo reads it (`ip4.ip`).
 * The network configurations are the shipped examples (deploy/nomad, deploy/mesos) with the lab's
 * socket and names. Bad input: unknown CNI_ARGS without IgnoreUnknown, the Mesos key without
 * network_info: an error naming it, nothing allocated.
 */
import { strict as assert } from 'node:assert';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { run, spawnDaemon } from '../../../lib/exec';
import { stopProcess } from '../../../lib/process';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { cniDriver } from '../../support/cni-driver';
import { runShim, SHIM_COMPILED, type ShimOutcome } from '../../support/cni-shim';
import { labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'nmx';
const NS = { nomad: 'nmx-nomad', mesos: 'nmx-mesos', mesos3: 'nmx-mesos3', bad: 'nmx-bad' };
const DIR = `/tmp/nl-cni/nmx-${process.pid}`;
const REPO = resolve(__dirname, '../../../..');
const ALLOC_ID = '5b2c7e1a-93d4-4f0e-b6a8-0c1d2e3f4a5b';
const MESOS_ID = '8f0e6d2c-4b1a-4e3f-9a7b-6c5d4e3f2a1b';
/** Nomad namespace = netloom tenant (the example's mapping), job = group (this test's) */
const NOMAD = { tenant: 'nmt', network: 'web', subnet: '10.87.1.0/24', gw: '10.87.1.254', job: 'shop', hostPort: 28080 };
const MESOS = { tenant: 'nmc', network: 'db', subnet: '10.87.2.0/24', gw: '10.87.2.254', group: 'backend', hostPort: 25432 };

interface Endpoint {
  id: string;
  containerId: string;
  /** `TENANT:NETWORK` */
  network: string;
  /** `TENANT:GROUP`, '' without a group */
  groupKey: string;
  labels: Record<string, string>;
}

describe('Nomad and Mesos CNI calls against the real agent (issue 20)', function () {
  this.timeout(120_000);
  const plan = planLab({ name: LAB, hosts: 1, etcdMembers: 1, netmasters: 1 });
  const lab = labCli(LAB);
  const netctl = netctlCli(plan.netmasters[0]!.url);
  const host1 = plan.hosts[0]!;
  const sock = agentPaths(plan, host1.name).cniSocket;
  const servers: Array<{ pid: number; expect: string }> = [];

  /** the endpoints netmaster holds, as `netctl endpoint inspect` shows them */
  async function endpoints(): Promise<Endpoint[]> {
    const ls = JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Array<Record<string, unknown>>;
    const out: Endpoint[] = [];
    for (const e of ls) {
      const id = String(e.endpointID ?? e.id ?? '');
      const oper = (JSON.parse((await netctl(['endpoint', 'inspect', id])).stdout) as { Oper?: Record<string, unknown> }).Oper ?? {};
      out.push({
        id,
        containerId: String(oper.containerID ?? ''),
        network: String(oper.network ?? ''),
        groupKey: String(oper.endpointGroupKey ?? ''),
        labels: (oper.labels ?? {}) as Record<string, string>,
      });
    }
    return out;
  }
  const endpointOf = async (containerId: string) => (await endpoints()).find((e) => e.containerId === containerId);
  const links = async (ns: string) => (JSON.parse((await run('ip', ['-n', ns, '-j', 'link', 'show'])).stdout) as unknown[]).length;

  /** a TCP server in `ns` on `port` answering `text` (stopped in after) */
  function serve(ns: string, port: number, text: string): void {
    const fd = openSync(join(DIR, `${ns}-server.log`), 'a');
    const pid = spawnDaemon('busybox', ['nc', '-ll', '-p', String(port), '-e', 'echo', text], { netns: ns, logFd: fd });
    closeSync(fd);
    servers.push({ pid, expect: 'busybox' });
  }
  /** what a TCP connection from the tor to host1's `port` reads ('' when nothing answers) */
  async function fromTor(port: number): Promise<string> {
    const r = await run('nc', ['-w', '3', host1.dataIp, String(port)], {
      netns: plan.torNetns,
      input: '',
      allowFailure: true,
      timeoutMs: 10_000,
    });
    return r.code === 0 ? r.stdout.trim() : '';
  }

  before(async function () {
    this.timeout(300_000);
    mkdirSync(DIR, { recursive: true });
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '1', '--etcd-members', '1', '--netmasters', '1'], false, 240_000);
    for (const t of [NOMAD, MESOS]) {
      await netctl(['tenant', 'create', t.tenant]);
      await netctl(['net', 'create', '-t', t.tenant, '-e', 'vxlan', '-s', t.subnet, '-g', t.gw, t.network]);
    }
    await netctl(['group', 'create', '-t', NOMAD.tenant, NOMAD.network, NOMAD.job]);
    await netctl(['group', 'create', '-t', MESOS.tenant, MESOS.network, MESOS.group]);
    for (const ns of Object.values(NS)) await addNetns(ns);
  });

  after(async function () {
    this.timeout(120_000);
    for (const s of servers) await stopProcess(s.pid, s.expect).catch(() => undefined);
    for (const ns of Object.values(NS)) await delNetns(ns).catch(() => undefined);
    await lab(['down'], true, 120_000);
    rmSync(DIR, { recursive: true, force: true });
  });

  describe("Nomad: go-cni's calls through the real libcni", () => {
    let driver: string;
    let conflist: string;
    const NOMAD_ARGS =
      `IgnoreUnknown=true;FancyMessage=hi;NOMAD_REGION=global;NOMAD_NAMESPACE=${NOMAD.tenant};NOMAD_JOB_ID=${NOMAD.job};` +
      `NOMAD_GROUP_NAME=api;NOMAD_ALLOC_ID=${ALLOC_ID}`;
    // getPortMapping(): each port as tcp and udp, HostIP the port's host network address ("" = any)
    const PORTS = JSON.stringify(
      ['tcp', 'udp'].map((Protocol) => ({ HostPort: NOMAD.hostPort, ContainerPort: 8080, Protocol, HostIP: '' })),
    );
    const drive = async (op: string, id: string, ns: string, extra: string[]) => {
      const args = ['-op', op, '-conflist', conflist, '-bindir', dirname(SHIM_COMPILED), '-cachedir', join(DIR, 'cache')];
      args.push('-id', id, '-netns', `/run/netns/${ns}`, '-ifname', 'eth0', ...extra);
      const r = await run(driver, args, { allowFailure: true, timeoutMs: 90_000 });
      return { code: r.code, json: JSON.parse(r.stdout || '{}') as Record<string, unknown>, text: `${r.stdout}${r.stderr}` };
    };

    before(async function () {
      this.timeout(300_000);
      driver = await cniDriver();
      // the shipped example, pointed at the lab: group from the job for this test
      const example = JSON.parse(readFileSync(join(REPO, 'deploy/nomad/netloom.conflist'), 'utf8')) as {
        plugins: Array<Record<string, unknown>>;
      };
      example.plugins[0] = {
        ...example.plugins[0],
        agentSocket: sock,
        network: NOMAD.network,
        nomad: { tenant: 'namespace', group: 'job' },
      };
      conflist = join(DIR, 'nomad.conflist');
      writeFileSync(conflist, JSON.stringify(example));
    });

    it('ADD (Setup): the address Nomad picks is in the network of its namespace; labels, group and the published port', async () => {
      const add = await drive('add', ALLOC_ID, NS.nomad, ['-args', NOMAD_ARGS, '-portmap', PORTS, '-gocni']);
      assert.equal(add.code, 0, add.text);
      assert.equal(add.json.interface, 'eth0');
      assert.match(String(add.json.address), /^10\.87\.1\.\d+$/);
      assert.equal((add.json.result as { cniVersion: string }).cniVersion, '1.0.0');
      const ep = await waitFor('the allocation endpoint in netmaster', () => endpointOf(ALLOC_ID), { timeoutMs: 20_000 });
      assert.equal(ep.groupKey, `${NOMAD.tenant}:${NOMAD.job}`, JSON.stringify(ep));
      assert.equal(ep.network, `${NOMAD.tenant}:${NOMAD.network}`, JSON.stringify(ep));
      assert.deepEqual(ep.labels, {
        'nomadproject.io/region': 'global',
        'nomadproject.io/namespace': NOMAD.tenant,
        'nomadproject.io/job': NOMAD.job,
        'nomadproject.io/group': 'api',
        'nomadproject.io/alloc': ALLOC_ID,
      });
      serve(NS.nomad, 8080, 'nomad-web');
      const got = await waitFor('the published port from the tor', async () => (await fromTor(NOMAD.hostPort)) || undefined, {
        timeoutMs: 20_000,
        intervalMs: 200,
      });
      assert.equal(got, 'nomad-web');
    });

    it('CHECK (after a client restart, with the args and ports) passes; DEL (Teardown, ports only) releases all', async () => {
      const check = await drive('check', ALLOC_ID, NS.nomad, ['-args', NOMAD_ARGS, '-portmap', PORTS]);
      assert.equal(check.code, 0, check.text);
      const del = await drive('del', ALLOC_ID, NS.nomad, ['-portmap', PORTS]);
      assert.equal(del.code, 0, del.text);
      await waitFor('the endpoint gone', async () => ((await endpointOf(ALLOC_ID)) ? undefined : true), { timeoutMs: 20_000 });
      assert.equal(await links(NS.nomad), 1, 'only lo is left');
      assert.equal(await fromTor(NOMAD.hostPort), '', 'nothing answers on the host port');
    });

    it('unknown CNI_ARGS keys without IgnoreUnknown: code 4 naming the key, nothing allocated', async () => {
      const add = await drive('add', 'nmx-bad-alloc', NS.bad, ['-args', `NOMAD_NAMESPACE=${NOMAD.tenant};Fancy=1`, '-gocni']);
      assert.deepEqual([add.code, add.json.code], [1, 4], add.text);
      assert.match(String(add.json.msg), /CNI_ARGS: unknown key "Fancy"/);
      assert.equal(await links(NS.bad), 1);
      assert.equal(await endpointOf('nmx-bad-alloc'), undefined);
    });
  });

  describe("Mesos: the network/cni isolator's calls", () => {
    const example = JSON.parse(readFileSync(join(REPO, 'deploy/mesos/netloom.conf'), 'utf8')) as Record<string, unknown>;
    /** the isolator's environment: no CNI_ARGS */
    const env = (command: string, id: string, ns: string) => ({
      NETLOOM_CNI_TRANSPORT: 'compiled',
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_PATH: dirname(SHIM_COMPILED),
      CNI_IFNAME: 'eth0',
      CNI_NETNS: `/run/netns/${ns}`,
    });
    /** the example with Mesos' args injected (what it checkpoints and sends again for DEL) */
    const conf = (cniVersion: string, networkInfo: unknown): string =>
      JSON.stringify({ ...example, cniVersion, agentSocket: sock, args: { 'org.apache.mesos': { network_info: networkInfo } } });
    const info = {
      name: 'netloom',
      labels: {
        labels: [
          { key: 'io.contiv.tenant', value: MESOS.tenant },
          { key: 'io.contiv.network', value: MESOS.network },
          { key: 'io.contiv.net-group', value: MESOS.group },
          { key: 'app', value: 'pg' },
        ],
      },
      port_mappings: [{ host_port: MESOS.hostPort, container_port: 5432 }],
    };
    const explain = (r: ShimOutcome) => `exit ${r.code}: ${r.stdout.slice(0, 500)}${r.stderr.slice(0, 300)}`;

    it("ADD in 0.2.0 (what Mesos reads: ip4): Contiv's labels give tenant, network and group; port_mappings published; traffic arrives", async () => {
      const add = await runShim(env('ADD', MESOS_ID, NS.mesos), conf('0.2.0', info));
      assert.equal(add.code, 0, explain(add));
      const res = add.json as { cniVersion: string; ip4?: { ip: string; gateway?: string; routes?: unknown[] }; ips?: unknown };
      assert.equal(res.cniVersion, '0.2.0');
      assert.match(res.ip4?.ip ?? '', /^10\.87\.2\.\d+\/24$/);
      assert.equal(res.ip4?.gateway, MESOS.gw);
      assert.deepEqual(res.ip4?.routes, [{ dst: '0.0.0.0/0', gw: MESOS.gw }]);
      assert.equal(res.ips, undefined, 'no 0.3.0 fields');
      const ep = await waitFor('the container endpoint in netmaster', () => endpointOf(MESOS_ID), { timeoutMs: 20_000 });
      assert.equal(ep.groupKey, `${MESOS.tenant}:${MESOS.group}`, JSON.stringify(ep));
      assert.equal(ep.network, `${MESOS.tenant}:${MESOS.network}`, JSON.stringify(ep));
      assert.deepEqual(ep.labels, { app: 'pg' });
      serve(NS.mesos, 5432, 'mesos-pg');
      const got = await waitFor('the published port from the tor', async () => (await fromTor(MESOS.hostPort)) || undefined, {
        timeoutMs: 20_000,
        intervalMs: 200,
      });
      assert.equal(got, 'mesos-pg');
    });

    it('DEL with the checkpointed configuration releases the endpoint and the port', async () => {
      const del = await runShim(env('DEL', MESOS_ID, NS.mesos), conf('0.2.0', info));
      assert.deepEqual([del.code, del.stdout], [0, ''], explain(del));
      await waitFor('the endpoint gone', async () => ((await endpointOf(MESOS_ID)) ? undefined : true), { timeoutMs: 20_000 });
      assert.equal(await links(NS.mesos), 1);
      assert.equal(await fromTor(MESOS.hostPort), '');
    });

    it('ADD in 0.3.0 answers in 0.3.0 (ips with version, interfaces); DEL', async () => {
      const id = `${MESOS_ID}.child`;
      const add = await runShim(env('ADD', id, NS.mesos3), conf('0.3.0', { name: 'netloom', labels: info.labels }));
      assert.equal(add.code, 0, explain(add));
      const res = add.json as { cniVersion: string; ips: Array<{ version: string; address: string }>; interfaces: unknown[] };
      assert.equal(res.cniVersion, '0.3.0');
      assert.equal(res.ips[0]?.version, '4');
      assert.match(res.ips[0]?.address ?? '', /^10\.87\.2\.\d+\/24$/);
      assert.ok(res.interfaces.length > 0);
      const del = await runShim(env('DEL', id, NS.mesos3), conf('0.3.0', { name: 'netloom', labels: info.labels }));
      assert.equal(del.code, 0, explain(del));
    });

    it("the Mesos key without network_info: code 7 naming it, in the configuration's version; nothing allocated", async () => {
      const add = await runShim(
        env('ADD', 'nmx-bad-mesos', NS.bad),
        JSON.stringify({ ...example, agentSocket: sock, args: { 'org.apache.mesos': {} } }),
      );
      assert.equal(add.code, 1, explain(add));
      assert.deepEqual([add.json?.code, add.json?.cniVersion], [7, '0.2.0'], explain(add));
      assert.match(String(add.json?.msg), /args\.org\.apache\.mesos\.network_info is required/);
      assert.equal(await links(NS.bad), 1);
      assert.equal(await endpointOf('nmx-bad-mesos'), undefined);
    });
  });
});
