/**
 * Issue 19, the lab as one Kubernetes cluster (lab `kee2e`: 3 hosts, `up --kube`: the API
 * stand-in, netmaster and the agents reading it, containerd and a kubelet stand-in per host).
 * Everything is driven as a cluster admin would, with kubectl 1.20 and real YAML:
 * - pod identity: a pod whose annotations name a netloom network and group, and one with Contiv's
 *   io.contiv.* labels, and one in a namespace annotated with a network (the pod says nothing),
 *   get an address in that network (real traffic: they reach its pods, not the default network's),
 *   their endpoint in netmaster carries the
 *   group and the pod's labels; the pod's status (podIP, hostIP, Ready) is the kubelet's; kubectl
 *   delete pod: the pod is Terminating (the stand-in's graceful pod deletion) until the kubelet has
 *   stopped the sandbox (CNI DEL), removed it and deleted the pod with grace 0; the endpoint is gone;
 * - the kubelet killed, a pod deleted meanwhile (it stays Terminating), `restart HOST kubelet`: the
 *   deleted pod's sandbox, endpoint and object go, the running pod keeps its sandbox;
 * - the upstream NetworkPolicy scenarios (netpol-scenarios.ts) with real pods: namespaces x, y, z
 *   with pods a, b, c spread over the 3 hosts, policies applied and deleted with kubectl, pod and
 *   namespace labels changed with kubectl, every step's whole matrix (every ordered pair, each
 *   check's port and protocol) probed with one exec per source pod until it is the expected one;
 *   in VXLAN mode (WIRE_SCENARIOS) and VLAN mode (a subset); NETLOOM_NETPOL_ALL=1 runs all 49 in both.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { waitFor } from '../../../lib/clock';
import { isAlive } from '../../../lib/process';
import { kubeletLog as kubeletLogOf } from '../../../deploy/lab/kubelets';
import { CriClient } from '../../../deploy/lab/cri/client';
import { POD_NAMESPACE_LABEL, POD_NAME_LABEL, POD_UID_LABEL } from '../../../deploy/lab/cri/kubelet';
import { KubeClusterLab } from '../../support/kube-cluster-lab';
import { netctlCli } from '../../support/lab-cli';
import { NETPOL_SCENARIOS, PODS, WIRE_SCENARIOS, type NetpolStep } from '../../support/netpol-scenarios';
import { namespaceManifests, podManifest, policyManifests, runPorts, yamlStream, type PodPlacement } from '../../support/netpol-manifests';
import { matrixHolds } from '../../support/netpol-prober';

const LAB = 'kee2e';
const cluster = new KubeClusterLab(LAB, 'kube-cluster');
const { lab, plan } = cluster;
const netctl = netctlCli(plan.netmasters[0]!.url);
const log = (msg: string) => cluster.log(msg);
const ALL = process.env.NETLOOM_NETPOL_ALL === '1';

const kubectl = (args: string[], input?: string, allowFailure = false): Promise<string> => cluster.kubectl(args, input, allowFailure);

interface ApiPod {
  metadata: { namespace: string; name: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName: string };
  status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: Array<{ type: string; status: string }> };
}
async function apiPods(namespaces: readonly string[]): Promise<ApiPod[]> {
  const out: ApiPod[] = [];
  for (const ns of namespaces)
    out.push(...(JSON.parse(await kubectl(['get', 'pods', '-n', ns, '-o', 'json'])) as { items: ApiPod[] }).items);
  return out;
}

interface Ep {
  ipAddress: string;
  homingHost: string;
  network: string;
  groupName: string;
  labels?: Record<string, string>;
  pod?: { namespace: string; name: string; uid: string };
}
async function endpoints(): Promise<Ep[]> {
  return JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Ep[];
}

const cri = (host: string): CriClient => cluster.cri(host);

/** The running container of pod `ns/name` on `host` (found by the kubelet's labels). */
const containerIds = new Map<string, string>();
async function containerOf(pod: string, host: string): Promise<string> {
  const [namespace, name] = pod.split('/') as [string, string];
  const cached = containerIds.get(pod);
  if (cached) return cached;
  const cs = await cri(host).listContainers({
    labelSelector: { [POD_NAMESPACE_LABEL]: namespace, [POD_NAME_LABEL]: name },
    state: { state: 'CONTAINER_RUNNING' },
  });
  if (!cs[0]) throw new Error(`no running container of ${pod} on ${host}`);
  containerIds.set(pod, cs[0].id);
  return cs[0].id;
}

describe('the lab as a Kubernetes cluster: kubectl, kubelet stand-ins, containerd, netloom (3 hosts)', function () {
  this.timeout(300_000);

  cluster.hooks();

  it('every host is a Ready node; status shows the kubelets', async () => {
    const nodes = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: Array<{
        metadata: { name: string };
        status: { conditions: Array<{ type: string; status: string }>; addresses: Array<{ address: string }> };
      }>;
    };
    assert.deepEqual(nodes.items.map((n) => n.metadata.name).sort(), ['host1', 'host2', 'host3']);
    for (const n of nodes.items) {
      assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
      assert.equal(n.status.addresses[0]?.address, plan.hosts.find((h) => h.name === n.metadata.name)?.mgmtIp);
    }
    const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as {
      kubelets: Array<{ host: string; pid: number | null; ready: boolean }>;
    };
    assert.deepEqual(
      s.kubelets.map((k) => `${k.host} ${k.pid !== null} ${k.ready}`),
      ['host1 true true', 'host2 true true', 'host3 true true'],
    );
  });

  describe('pod identity from the API', () => {
    before(async () => {
      await netctl(['net', 'create', '-t', 'default', '-e', 'vxlan', '-s', '10.98.30.0/24', '-g', '10.98.30.254', 'keann']);
      await netctl(['group', 'create', '-t', 'default', 'keann', 'keweb']);
      await netctl(['group', 'create', '-t', 'default', 'keann', 'kedb']);
    });

    it('annotations and Contiv labels pick network and group; labels become endpoint labels; status as the kubelet writes it', async () => {
      const manifests = [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ke-shop' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ke-legacy' } },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: 'web',
            namespace: 'ke-shop',
            labels: { app: 'web', tier: 'front' },
            annotations: { 'netloom.io/network': 'keann', 'netloom.io/group': 'keweb' },
          },
          spec: { nodeName: 'host2', containers: [{ name: 'agnhost', image: 'netloom.local/agnhost:1.0', args: ['serve'] }] },
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: 'db',
            namespace: 'ke-legacy',
            labels: { app: 'db', 'io.contiv.network': 'keann', 'io.contiv.net-group': 'kedb' },
          },
          spec: { nodeName: 'host3', containers: [{ name: 'agnhost', image: 'netloom.local/agnhost:1.0', args: ['serve'] }] },
        },
      ];
      await kubectl(['apply', '-f', '-'], yamlStream(manifests));
      await kubectl(['wait', '--for=condition=Ready', 'pod/web', '-n', 'ke-shop', '--timeout=90s']);
      await kubectl(['wait', '--for=condition=Ready', 'pod/db', '-n', 'ke-legacy', '--timeout=90s']);
      const pods = await apiPods(['ke-shop', 'ke-legacy']);
      const eps = await endpoints();
      for (const [ref, group, host] of [
        ['ke-shop/web', 'keweb', 'host2'],
        ['ke-legacy/db', 'kedb', 'host3'],
      ] as const) {
        const p = pods.find((x) => `${x.metadata.namespace}/${x.metadata.name}` === ref)!;
        assert.equal(p.status?.phase, 'Running');
        assert.equal(p.status?.hostIP, plan.hosts.find((h) => h.name === host)?.mgmtIp);
        assert.match(p.status?.podIP ?? '', /^10\.98\.30\./, `${ref} has an address of keann`);
        const ep = eps.find((e) => e.pod?.uid === p.metadata.uid);
        assert.ok(ep, `${ref} has an endpoint in netmaster`);
        assert.equal(ep.network, 'default:keann');
        assert.equal(ep.groupName, group);
        assert.equal(ep.ipAddress, p.status?.podIP);
        assert.equal(ep.homingHost, host);
        assert.deepEqual(ep.labels, p.metadata.labels);
      }
      const group = (await netctl(['endpoint', 'ls'])).stdout;
      assert.match(group, /keweb/);
    });

    it("a namespace's netloom.io/network annotation places its pods (none of their own): they reach that network's pods, not the default network's", async () => {
      const agnhost = (name: string, namespace: string, nodeName: string) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace, labels: { app: name } },
        spec: {
          nodeName,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'agnhost', image: 'netloom.local/agnhost:1.0', args: ['serve'] }],
        },
      });
      await kubectl(
        ['apply', '-f', '-'],
        yamlStream([
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ke-nsnet', annotations: { 'netloom.io/network': 'keann' } } },
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ke-plain' } },
          agnhost('app', 'ke-nsnet', 'host1'),
          agnhost('other', 'ke-plain', 'host1'),
          agnhost('peer', 'ke-plain', 'host2'),
        ]),
      );
      await kubectl(['wait', '--for=condition=Ready', 'pod/app', '-n', 'ke-nsnet', '--timeout=90s']);
      await kubectl(['wait', '--for=condition=Ready', 'pod/other', 'pod/peer', '-n', 'ke-plain', '--timeout=90s']);
      const pods = await apiPods(['ke-nsnet', 'ke-plain', 'ke-legacy']);
      const eps = await endpoints();
      const ipOf = (ref: string) => pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === ref)?.status?.podIP ?? '';
      const epOf = (ref: string) => eps.find((e) => `${e.pod?.namespace ?? ''}/${e.pod?.name ?? ''}` === ref);
      assert.match(ipOf('ke-nsnet/app'), /^10\.98\.30\./, "ke-nsnet/app has an address of keann, its namespace's network");
      assert.equal(epOf('ke-nsnet/app')?.network, 'default:keann');
      assert.equal(epOf('ke-nsnet/app')?.ipAddress, ipOf('ke-nsnet/app'));
      assert.equal(epOf('ke-plain/other')?.network, 'default:pods', 'a namespace without the annotation keeps the default network');

      const probe = async (from: string, host: string, to: string): Promise<boolean> => {
        const r = await cri(host).execSync(
          await containerOf(from, host),
          ['/agnhost', 'probe', '--timeout', '1000ms', `tcp:${ipOf(to)}:80`],
          20,
        );
        return r.stdout.toString().trim() === `tcp:${ipOf(to)}:80 ok`;
      };
      // the pod in keann reaches ke-legacy/db (keann, on host3)
      await waitFor('ke-nsnet/app to reach ke-legacy/db over keann', () => probe('ke-nsnet/app', 'host1', 'ke-legacy/db'), {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      // ke-plain/other serves (its own network reaches it), and the pod in keann does not reach it
      await waitFor('ke-plain/peer to reach ke-plain/other over pods', () => probe('ke-plain/peer', 'host2', 'ke-plain/other'), {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      assert.equal(await probe('ke-nsnet/app', 'host1', 'ke-plain/other'), false, 'keann and the default network are isolated');
      await kubectl(['delete', 'namespace', 'ke-nsnet', 'ke-plain', '--wait=false']);
    });

    it('kubectl delete pod: Terminating until the kubelet has stopped the sandbox (CNI DEL), removed it and deleted the pod; the endpoint is gone', async () => {
      const uid = (await apiPods(['ke-shop']))[0]!.metadata.uid;
      // kubectl waits until the object is gone: the kubelet deletes it once the sandbox is removed
      await kubectl(['delete', 'pod', 'web', '-n', 'ke-shop']);
      // the kubelet logs its delete once the API answered it, which kubectl may see first
      await waitFor(
        'the kubelet to log that it deleted the pod after its deletionTimestamp',
        () =>
          readFileSync(kubeletLogOf(plan, 'host2'), 'utf8')
            .split('\n')
            .some((l) => l.includes(uid) && l.includes('"msg":"pod deleted"')),
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      await waitFor('the endpoint of ke-shop/web to go', async () => !(await endpoints()).some((e) => e.pod?.uid === uid), {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      await waitFor(
        'the sandbox of ke-shop/web to go',
        async () => (await cri('host2').listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } })).length === 0,
        {
          timeoutMs: 30_000,
          intervalMs: 200,
        },
      );
      await kubectl(['delete', 'namespace', 'ke-shop', 'ke-legacy', '--wait=false']);
      await waitFor('the pods of ke-legacy to go', async () => !(await endpoints()).some((e) => e.network === 'default:keann'), {
        timeoutMs: 60_000,
        intervalMs: 300,
      });
    });
  });

  it('a pod deleted and made again under the same name, with other named ports and policies that use them: its peers reach it at once (no address reused with a new MAC)', async () => {
    const ns = 'ke-remake';
    const agnhost = (name: string, nodeName: string, web?: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels: { app: name } },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'agnhost',
            image: 'netloom.local/agnhost:1.0',
            args: ['serve', '--port', '80', '--port', '81'],
            ...(web ? { ports: [{ name: 'web', containerPort: web }] } : {}),
          },
        ],
      },
    });
    // ingress to srv on its port `web` (resolved on srv), egress of cli to srv on `web` (resolved on the peer srv)
    const policies = [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'srv-web', namespace: ns },
        spec: { podSelector: { matchLabels: { app: 'srv' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'web' }] }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'cli-to-web', namespace: ns },
        spec: {
          podSelector: { matchLabels: { app: 'cli' } },
          policyTypes: ['Egress'],
          egress: [{ to: [{ podSelector: { matchLabels: { app: 'srv' } } }], ports: [{ port: 'web' }] }],
        },
      },
    ];
    // pods on host2 first, so that host2 holds an address block of the pod network: srv's address
    // is then host2's own to give (netplugin/ipam/local-allocator.ts), as on a busy node. The first
    // ADD of a network new to a host goes to netmaster; the next one claims the host's block.
    await kubectl(
      ['apply', '-f', '-'],
      yamlStream([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, agnhost('warm', 'host2')]),
    );
    await kubectl(['wait', '--for=condition=Ready', 'pod/warm', '-n', ns, '--timeout=90s']);
    await kubectl(['apply', '-f', '-'], yamlStream([agnhost('warm2', 'host2')]));
    await kubectl(['wait', '--for=condition=Ready', 'pod/warm2', '-n', ns, '--timeout=90s']);
    await waitFor(
      'host2 to hold a block of the pod network',
      async () => {
        const r = await netctl(['net', 'inspect', '-t', 'default', 'pods', '-o', 'json']);
        return ((JSON.parse(r.stdout) as { Oper?: { blocks?: Array<{ host: string }> } }).Oper?.blocks ?? []).some(
          (b) => b.host === 'host2',
        );
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    await kubectl(['apply', '-f', '-'], yamlStream([agnhost('srv', 'host2', 80), agnhost('cli', 'host1'), ...policies]));
    await kubectl(['wait', '--for=condition=Ready', 'pod/srv', 'pod/cli', '-n', ns, '--timeout=90s']);
    const srvIp = async () => (await apiPods([ns])).find((p) => p.metadata.name === 'srv')?.status?.podIP ?? '';
    const reach = async (ip: string, port: number): Promise<boolean> => {
      const r = await cri('host1').execSync(
        await containerOf(`${ns}/cli`, 'host1'),
        ['/agnhost', 'probe', '--timeout', '500ms', `tcp:${ip}:${port}`],
        20,
      );
      return r.stdout.toString().trim() === `tcp:${ip}:${port} ok`;
    };
    const first = await srvIp();
    // cli talks to srv: its neighbour cache holds srv's address with srv's MAC
    await waitFor('cli to reach srv on web (80)', () => reach(first, 80), { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal(await reach(first, 81), false, '81 is not web: denied');

    await kubectl(['delete', 'pod', 'srv', '-n', ns]);
    await waitFor('the endpoint of the deleted srv to go', async () => !(await endpoints()).some((e) => e.ipAddress === first), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await kubectl(['apply', '-f', '-'], yamlStream([agnhost('srv', 'host2', 81)]));
    await kubectl(['wait', '--for=condition=Ready', 'pod/srv', '-n', ns, '--timeout=90s']);
    const again = await srvIp();
    const t0 = Date.now();
    // within less than a neighbour entry's shortest REACHABLE time (15 s): had srv taken its old
    // address again with a new MAC, cli would send to the old MAC until its entry expired
    await waitFor('cli to reach the new srv on web (now 81)', () => reach(again, 81), { timeoutMs: 10_000, intervalMs: 200 });
    log(`srv made again (${first} -> ${again}): reached on 81 after ${Date.now() - t0} ms`);
    assert.equal(await reach(again, 80), false, '80 is no longer web: denied');
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it('the kubelet restarted: it keeps its running pods and removes the sandbox of a pod deleted while it was down', async () => {
    const pod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'ke-restart', labels: { app: name } },
      spec: {
        nodeName: 'host1',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'agnhost', image: 'netloom.local/agnhost:1.0', args: ['serve'] }],
      },
    });
    await kubectl(
      ['apply', '-f', '-'],
      yamlStream([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ke-restart' } }, pod('keep'), pod('gone')]),
    );
    await kubectl(['wait', '--for=condition=Ready', 'pod/keep', 'pod/gone', '-n', 'ke-restart', '--timeout=90s']);
    const before = await apiPods(['ke-restart']);
    const uidOf = (name: string) => before.find((p) => p.metadata.name === name)!.metadata.uid;
    const sandboxes = async (uid: string) =>
      (await cri('host1').listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } })).map((s) => s.id);
    const kept = await sandboxes(uidOf('keep'));
    assert.equal(kept.length, 1);

    // the kubelet down (the lab started it: its PID is in the status), a pod deleted meanwhile
    const status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as { kubelets: Array<{ host: string; pid: number | null }> };
    const pid = status.kubelets.find((k) => k.host === 'host1')?.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('the kubelet of host1 to exit', () => !isAlive(pid), { timeoutMs: 10_000, intervalMs: 50 });
    // no kubelet: the pod stays Terminating, its sandbox stays
    await kubectl(['delete', 'pod', 'gone', '-n', 'ke-restart', '--wait=false']);
    const terminating = (await apiPods(['ke-restart'])).find((p) => p.metadata.name === 'gone');
    assert.ok(terminating?.metadata.deletionTimestamp, 'the pod is Terminating');
    assert.equal((await sandboxes(uidOf('gone'))).length, 1);

    await lab(['restart', 'host1', 'kubelet']);
    await waitFor('the sandbox of the deleted pod to go', async () => (await sandboxes(uidOf('gone'))).length === 0, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await waitFor('its endpoint to go', async () => !(await endpoints()).some((e) => e.pod?.uid === uidOf('gone')), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await waitFor(
      'the deleted pod to leave the API',
      async () => !(await apiPods(['ke-restart'])).some((p) => p.metadata.name === 'gone'),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    assert.deepEqual(await sandboxes(uidOf('keep')), kept, 'the running pod keeps its sandbox');
    const after = (await apiPods(['ke-restart'])).find((p) => p.metadata.name === 'keep');
    assert.equal(after?.status?.phase, 'Running');
    await kubectl(['delete', 'namespace', 'ke-restart', '--wait=false']);
  });

  const modes: Array<{ mode: string; network: string; create: string[]; scenarios: readonly string[] }> = [
    {
      mode: 'VXLAN',
      network: 'kevx',
      create: ['-e', 'vxlan', '-s', '10.98.10.0/24', '-g', '10.98.10.254'],
      scenarios: ALL ? NETPOL_SCENARIOS.map((s) => s.name) : WIRE_SCENARIOS,
    },
    {
      mode: 'VLAN',
      network: 'kevl',
      create: ['-e', 'vlan', '-p', '1098', '-s', '10.98.20.0/24', '-g', '10.98.20.254'],
      scenarios: ALL
        ? NETPOL_SCENARIOS.map((s) => s.name)
        : [
            "should support a 'default-deny-all' policy",
            'should enforce policy based on PodSelector and NamespaceSelector',
            'should allow ingress access from updated namespace',
            'named ports resolve on the pod that receives: egress per peer pod, ingress on the selected pod itself',
          ],
    },
  ];

  for (const m of modes) {
    describe(`the upstream NetworkPolicy scenarios with real pods, ${m.mode} (x, y, z x a, b, c over 3 hosts; TCP and UDP on 80 and 81)`, () => {
      const place: PodPlacement = {
        nodeOf: (pod) => `host${(PODS.indexOf(pod) % 3) + 1}`,
        annotations: { 'netloom.io/network': m.network },
      };
      const ips = new Map<string, string>();
      const scenarios = m.scenarios.map((name) => {
        const sc = NETPOL_SCENARIOS.find((s) => s.name === name);
        if (!sc) throw new Error(`no scenario ${name}`);
        return sc;
      });
      const ports = runPorts(scenarios);
      /** what was last applied, by object (only what changes is applied again) */
      const applied = new Map<string, string>();
      const inForce = new Set<string>();
      const ipOf = (pod: string): string => {
        const ip = ips.get(pod);
        if (!ip) throw new Error(`no address for ${pod}`);
        return ip;
      };
      const exec = async (pod: string, cmd: string[]): Promise<string> => {
        const host = place.nodeOf(pod);
        const r = await cri(host).execSync(await containerOf(pod, host), cmd, 20);
        if (r.exitCode !== 0) throw new Error(`exec in ${pod}: ${cmd.join(' ')}: exit ${r.exitCode}: ${r.stderr.toString()}`);
        return r.stdout.toString();
      };

      /** The manifests that differ from what was last applied, applied in one kubectl call. */
      async function applyChanged(manifests: ReadonlyArray<Record<string, unknown>>): Promise<void> {
        const key = (m: Record<string, unknown>) => {
          const md = m.metadata as { namespace?: string; name: string };
          return `${String(m.kind)} ${md.namespace ?? ''}/${md.name}`;
        };
        const changed = manifests.filter((m) => applied.get(key(m)) !== JSON.stringify(m));
        if (changed.length === 0) return;
        await kubectl(['apply', '-f', '-'], yamlStream(changed));
        for (const m of changed) applied.set(key(m), JSON.stringify(m));
      }

      /** Every pod Running and Ready with an address; the addresses. */
      async function podsReady(): Promise<void> {
        await waitFor(
          'every pod Running with an address',
          async () => {
            const pods = await apiPods(['x', 'y', 'z']);
            const ready = pods.filter(
              (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p.status.podIP,
            );
            if (ready.length !== PODS.length) return false;
            for (const p of ready) ips.set(`${p.metadata.namespace}/${p.metadata.name}`, p.status!.podIP!);
            return true;
          },
          { timeoutMs: 120_000, intervalMs: 300 },
        );
      }

      /** The whole state of a step with kubectl: namespace and pod labels, policies applied, the others deleted. */
      async function applyStep(step: NetpolStep): Promise<void> {
        await applyChanged([...namespaceManifests(step), ...PODS.map((p) => podManifest(step, p, place, ports.get(p) ?? []))]);
        const wanted = policyManifests(step, ipOf);
        for (const key of [...inForce].filter((k) => !wanted.has(k))) {
          const [ns, name] = key.split('/') as [string, string];
          await kubectl(['delete', 'networkpolicy', name, '-n', ns]);
          inForce.delete(key);
        }
        if (wanted.size > 0) await kubectl(['apply', '-f', '-'], yamlStream([...wanted.values()]));
        for (const k of wanted.keys()) inForce.add(k);
      }

      before(async function () {
        this.timeout(300_000);
        await netctl(['net', 'create', '-t', 'default', ...m.create, m.network]);
        const t0 = Date.now();
        const open: NetpolStep = { does: 'no policy', policies: () => [], expect: [] };
        await applyStep(open);
        await podsReady();
        log(`${m.mode}: 9 pods Running on 3 hosts in ${Date.now() - t0} ms`);
        // before any policy: every pod reaches every other, both protocols, both ports
        const held = await matrixHolds(
          exec,
          ipOf,
          {
            ...open,
            expect: (['TCP', 'UDP'] as const).flatMap((protocol) => [80, 81].map((port) => ({ port, protocol, reach: () => undefined }))),
          },
          60_000,
        );
        log(`${m.mode}: no policy, all ${held.cells} cells open after ${held.ms} ms (${held.rounds} rounds)`);
      });

      after(async function () {
        this.timeout(180_000);
        await kubectl(['delete', 'networkpolicy', '--all', '-n', 'x'], undefined, true);
        await kubectl(['delete', 'networkpolicy', '--all', '-n', 'y'], undefined, true);
        await kubectl(['delete', 'networkpolicy', '--all', '-n', 'z'], undefined, true);
        for (const ns of ['x', 'y', 'z']) await kubectl(['delete', 'pods', '--all', '-n', ns], undefined, true);
        containerIds.clear();
        await waitFor(
          `the endpoints of ${m.network} to go`,
          async () => !(await endpoints()).some((e) => e.network === `default:${m.network}`),
          {
            timeoutMs: 120_000,
            intervalMs: 500,
          },
        ).catch((e: unknown) => log(`${m.mode}: ${(e as Error).message}`));
      });

      for (const sc of scenarios) {
        it(`${sc.name} (${sc.steps.length} step${sc.steps.length > 1 ? 's' : ''})`, async () => {
          for (const [i, step] of sc.steps.entries()) {
            await applyStep(step);
            const held = await matrixHolds(exec, ipOf, step, 30_000);
            log(`${m.mode} ${sc.name.slice(0, 50)}: step ${i + 1} (${held.cells} cells) held after ${held.ms} ms, ${held.rounds} round(s)`);
          }
        });
      }
    });
  }
});
