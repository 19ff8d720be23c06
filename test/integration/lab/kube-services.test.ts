/**
 * Issue 19, Kubernetes Services in the cluster lab (lab `kesvc`: 3 hosts, `up --kube`: the API
 * stand-in with its EndpointSlice controller, netmaster's controller and the agents reading it,
 * containerd and a kubelet stand-in per host), driven as a cluster admin would with kubectl 1.20
 * and real YAML:
 * - three agnhost pods pinned one per host (`spec.nodeName`) answering with their name, one of
 *   them on another port under the same port name, a ClusterIP Service selecting them with a
 *   named targetPort, and a client pod: the client's connections to the cluster IP spread over
 *   all three pods;
 * - `kubectl delete pod` of one: its EndpointSlice loses it, and new connections avoid it within
 *   a bounded wait; a new pod with the Service's labels comes into rotation.
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { planLab } from '../../../deploy/lab/plan';
import { containerdPaths } from '../../../deploy/lab/containerd-paths';
import { kubeApiPaths } from '../../../deploy/lab/kube-api';
import { CriClient } from '../../../deploy/lab/cri/client';
import { POD_NAMESPACE_LABEL, POD_NAME_LABEL } from '../../../deploy/lab/cri/kubelet';
import { labCli } from '../../support/lab-cli';
import { kubectlPath } from '../../support/kube-apiserver';
import { yamlStream } from '../../support/netpol-manifests';

const LAB = 'kesvc';
const lab = labCli(LAB);
const plan = planLab({ name: LAB, hosts: 3, etcdMembers: 1, netmasters: 1 });
const log = (msg: string) => console.log(`      [kube-services] ${msg}`);
const NS = 'ks-svc';
const SERVICE = 'hostnames';
/** connections per probe round */
const ROUND = 30;

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await run(kubectlPath(), ['--kubeconfig', kubeApiPaths(plan).kubeconfig, ...args], {
    ...(input !== undefined ? { input } : {}),
    timeoutMs: 90_000,
  });
  return r.stdout;
}

/** An agnhost pod on `host` serving its name on `port`, declared as the container port `http`. */
function serverPod(name: string, host: string, port: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: SERVICE } },
    spec: {
      nodeName: host,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'agnhost',
          image: 'netloom.local/agnhost:1.0',
          args: ['serve', '--port', String(port)],
          ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
        },
      ],
    },
  };
}

const cris = new Map<string, CriClient>();
function cri(host: string): CriClient {
  let c = cris.get(host);
  if (!c) {
    c = new CriClient(containerdPaths(plan, host).socket, { timeoutMs: 60_000 });
    cris.set(host, c);
  }
  return c;
}

/** Runs `cmd` in the running container of pod NS/`pod` on `host`; its output. */
async function exec(pod: string, host: string, cmd: string[]): Promise<string> {
  const cs = await cri(host).listContainers({
    labelSelector: { [POD_NAMESPACE_LABEL]: NS, [POD_NAME_LABEL]: pod },
    state: { state: 'CONTAINER_RUNNING' },
  });
  if (!cs[0]) throw new Error(`no running container of ${NS}/${pod} on ${host}`);
  const r = await cri(host).execSync(cs[0].id, cmd, 120);
  if (r.exitCode !== 0) throw new Error(`exec in ${NS}/${pod}: ${cmd.join(' ')}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/**
 * `n` TCP connections from the client pod to `target`, one after another, each a new connection;
 * how many each answering pod took ('-' for a connection nobody answered).
 */
async function spread(target: string, n = ROUND): Promise<Map<string, number>> {
  const script = `i=0; while [ $i -lt ${n} ]; do /agnhost connect ${target} --timeout 1s 2>/dev/null || echo -; i=$((i+1)); done`;
  const out = await exec('client', 'host1', ['sh', '-c', script]);
  const counts = new Map<string, number>();
  for (const who of out.split('\n').filter((l) => l !== '')) counts.set(who, (counts.get(who) ?? 0) + 1);
  return counts;
}
const show = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}:${v}`).join(' ');

interface Slice {
  endpoints?: Array<{ addresses: string[]; targetRef?: { name: string }; conditions?: { ready?: boolean } }>;
}
/** The pods the Service's EndpointSlices list as ready, sorted. */
async function slicePods(): Promise<string[]> {
  const slices = JSON.parse(
    await kubectl(['get', 'endpointslices', '-n', NS, '-l', `kubernetes.io/service-name=${SERVICE}`, '-o', 'json']),
  ) as { items: Slice[] };
  return slices.items
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready !== false)
    .map((e) => e.targetRef?.name ?? '')
    .sort();
}

describe('Kubernetes Services in the cluster lab: kubectl, kubelet stand-ins, containerd, netloom (3 hosts)', function () {
  this.timeout(300_000);
  let clusterIP = '';
  let target = '';

  before(async function () {
    this.timeout(600_000);
    await lab(['down'], true);
    const t0 = Date.now();
    await lab(['up', '--hosts', '3', '--kube'], false, 600_000);
    log(`lab up --kube with 3 hosts in ${Date.now() - t0} ms`);
  });

  after(async function () {
    this.timeout(180_000);
    for (const c of cris.values()) c.close();
    cris.clear();
    await lab(['down'], true, 180_000);
  });

  it('a ClusterIP Service with a named targetPort over 3 pods on 3 hosts: a client pod’s connections spread over all of them', async () => {
    const manifests = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      serverPod('s1', 'host1', 8080),
      serverPod('s2', 'host2', 8080),
      // the named targetPort resolves per pod: this one serves elsewhere
      serverPod('s3', 'host3', 9090),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: SERVICE, namespace: NS },
        spec: { selector: { app: SERVICE }, ports: [{ name: 'web', protocol: 'TCP', port: 80, targetPort: 'http' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client', namespace: NS, labels: { app: 'client' } },
        spec: { nodeName: 'host1', containers: [{ name: 'agnhost', image: 'netloom.local/agnhost:1.0', args: ['pause'] }] },
      },
    ];
    await kubectl(['apply', '-f', '-'], yamlStream(manifests));
    await kubectl(['wait', '--for=condition=Ready', 'pod/s1', 'pod/s2', 'pod/s3', 'pod/client', '-n', NS, '--timeout=120s']);
    clusterIP = (await kubectl(['get', 'service', SERVICE, '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    assert.match(clusterIP, /^10\.96\./, 'the Service has a cluster IP');
    target = `${clusterIP}:80`;
    await waitFor('the EndpointSlice to list the 3 pods', async () => (await slicePods()).join() === 's1,s2,s3', {
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    // the agents get the Service asynchronously (netmaster's controller, then the views)
    let last = new Map<string, number>();
    await waitFor(
      'connections to the cluster IP to reach all 3 pods',
      async () => {
        last = await spread(target);
        log(`to ${target}: ${show(last)}`);
        return ['s1', 's2', 's3'].every((p) => (last.get(p) ?? 0) > 0) && !last.has('-');
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // then a bigger sample: every connection answered, each pod a fair share
    const counts = await spread(target, 90);
    log(`90 connections: ${show(counts)}`);
    assert.equal(counts.get('-') ?? 0, 0, 'every connection answered');
    assert.deepEqual([...counts.keys()].sort(), ['s1', 's2', 's3']);
    for (const p of ['s1', 's2', 's3']) assert.ok(counts.get(p)! >= 10, `${p} took ${counts.get(p)} of 90`);
  });

  it('kubectl delete pod: the EndpointSlice drops it and new connections avoid it', async () => {
    assert.ok(target, 'the Service of the first test');
    await kubectl(['delete', 'pod', 's2', '-n', NS]);
    await waitFor('the EndpointSlice to drop s2', async () => (await slicePods()).join() === 's1,s3', {
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    const t0 = Date.now();
    await waitFor(
      'a round of connections to reach only s1 and s3',
      async () => {
        const c = await spread(target);
        log(`after the delete: ${show(c)}`);
        return [...c.keys()].sort().join() === 's1,s3';
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    log(`new connections avoid s2 ${Date.now() - t0} ms after its slice changed`);
    const counts = await spread(target, 60);
    log(`60 connections: ${show(counts)}`);
    assert.deepEqual([...counts.keys()].sort(), ['s1', 's3'], 'every connection answered by s1 or s3');
  });

  it('a new pod with the Service’s labels comes into rotation', async () => {
    assert.ok(target, 'the Service of the first test');
    await kubectl(['apply', '-f', '-'], yamlStream([serverPod('s4', 'host2', 8080)]));
    await kubectl(['wait', '--for=condition=Ready', 'pod/s4', '-n', NS, '--timeout=120s']);
    await waitFor('the EndpointSlice to list s4', async () => (await slicePods()).join() === 's1,s3,s4', {
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    await waitFor(
      'connections to reach s4 too',
      async () => {
        const c = await spread(target);
        log(`with s4: ${show(c)}`);
        return [...c.keys()].sort().join() === 's1,s3,s4';
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const counts = await spread(target, 90);
    log(`90 connections: ${show(counts)}`);
    assert.equal(counts.get('-') ?? 0, 0, 'every connection answered');
    for (const p of ['s1', 's3', 's4']) assert.ok((counts.get(p) ?? 0) >= 10, `${p} took ${counts.get(p) ?? 0} of 90`);
  });
});
