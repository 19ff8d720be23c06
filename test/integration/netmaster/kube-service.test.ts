/**
 * netmaster's Kubernetes controller follows Services and EndpointSlices (issue 19) against real
 * components: the API server stand-in on etcd (its EndpointSlice controller makes the slices from
 * the pods, as kube-controller-manager does), Debian's kubectl applying YAML as an admin would,
 * pod addresses and readiness set through the status subresource as a kubelet would, and a real
 * netmaster (`--kubeconfig`, leader) whose intent store is read back over REST. Shown: a NodePort
 * Service with a named targetPort becomes a kubeService with the cluster IP and node port the API
 * server allocated and one endpoint per ready pod at that pod's own port; a pod deleted (or not
 * ready) leaves it; endpoints without a netloom endpoint, and an SCTP port, get Warning Events;
 * the Service deleted is gone.
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';

type Json = Record<string, unknown>;
const NS = 'ks-a';

const pod = (name: string, port: number): string =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${NS}`,
    '  labels: {app: web}',
    'spec:',
    '  containers:',
    '    - name: c',
    '      image: pause',
    '      ports:',
    `        - {name: http, containerPort: ${port}}`,
    '',
  ].join('\n');

const SERVICE = [
  'apiVersion: v1',
  'kind: Service',
  'metadata:',
  '  name: web',
  `  namespace: ${NS}`,
  'spec:',
  '  type: NodePort',
  '  selector: {app: web}',
  '  ports:',
  '    - {name: http, port: 80, targetPort: http}',
  '',
].join('\n');

describe('netmaster: Kubernetes Services and EndpointSlices into intent (API stand-in, kubectl, real netmaster)', function () {
  this.timeout(120_000);
  let etcd: EtcdFixture | undefined;
  let api: KubeApiFixture | undefined;
  let nm: RunningNetmaster | undefined;
  const logger = createLogger('kube-service-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });

  async function get(path: string): Promise<{ status: number; json: Json }> {
    const res = await fetch(`${nm!.url}/api/v1/${path}`);
    return { status: res.status, json: (await res.json()) as Json };
  }
  const apply = (yaml: string) => api!.kubectl(['apply', '-f', '-'], { input: yaml });

  /** what a kubelet reports: an address, Running, Ready */
  async function setStatus(name: string, ip: string, ready: boolean): Promise<void> {
    const path = `/api/v1/namespaces/${NS}/pods/${name}`;
    const cur = (await api!.request('GET', path)).json as Json;
    const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
    const r = await api!.request('PUT', `${path}/status`, { body: { ...cur, status } });
    assert.equal(r.status, 200, r.text);
  }

  /** the stored Service's endpoints as `ip:port`, sorted, once they are `want` */
  const endpointsAre = (want: string[], why: string): Promise<Json> =>
    waitFor(
      why,
      async () => {
        const r = await get(`kubeServices/${NS}:web/`);
        if (r.status !== 200) return undefined;
        const eps = (r.json.endpoints as Array<{ ip: string; ports: number[] }>).map((e) => `${e.ip}:${e.ports.join(',')}`).sort();
        return JSON.stringify(eps) === JSON.stringify(want) ? r.json : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

  before(async () => {
    etcd = await startTestEtcd('ks-kube-svc', 27273);
    api = await startKubeApi({ name: 'ks-svc', etcdEndpoint: etcd.endpoint, port: 27473, bookmarkIntervalSeconds: 1 });
    nm = await startNetmaster({
      etcdEndpoints: [etcd.endpoint],
      logger,
      agent: {
        grpcListen: '127.0.0.1:0',
        agentLeaseTtlSeconds: 10,
        deadHostGraceMs: 600_000,
        leaderLeaseTtlSeconds: 2,
        replicaId: 'ks-r0',
        kubeconfig: api.kubeconfig,
      },
    });
  });

  after(async () => {
    await nm?.stop().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await etcd?.stop();
  });

  it('a NodePort Service with a named targetPort: cluster IP, node port, one endpoint per ready pod at its own port', async () => {
    await apply(['apiVersion: v1', 'kind: Namespace', 'metadata:', `  name: ${NS}`, ''].join('\n'));
    await apply(pod('a', 8080));
    await apply(pod('b', 8080));
    await apply(pod('c', 9090));
    await apply(SERVICE);
    await setStatus('a', '10.73.5.11', true);
    await setStatus('b', '10.73.5.12', true);
    await setStatus('c', '10.73.5.13', true);
    const stored = await endpointsAre(['10.73.5.11:8080', '10.73.5.12:8080', '10.73.5.13:9090'], 'three endpoints, c at its own port');
    const svc = (await api!.request('GET', `/api/v1/namespaces/${NS}/services/web`)).json as {
      spec: { clusterIP: string; ports: Array<{ nodePort: number }> };
    };
    assert.equal(stored.type, 'NodePort');
    assert.equal(stored.clusterIP, svc.spec.clusterIP, 'the cluster IP the API server allocated');
    assert.deepEqual(stored.ports, [{ name: 'http', protocol: 'TCP', port: 80, nodePort: svc.spec.ports[0]!.nodePort }]);
    assert.ok(svc.spec.ports[0]!.nodePort >= 30000, 'a node port was allocated');
    const pods = (stored.endpoints as Array<{ pod?: { name: string } }>).map((e) => e.pod?.name).sort();
    assert.deepEqual(pods, ['a', 'b', 'c'], 'each endpoint names its pod');
  });

  it('endpoints no netloom endpoint has (no agent made these pods): a Warning Event naming them', async () => {
    const event = await waitFor(
      'a NotRealized Event on web',
      async () => {
        const list = (await api!.request('GET', `/api/v1/namespaces/${NS}/events`)).json as {
          items: Array<{ type: string; reason: string; message: string; involvedObject: { name: string } }>;
        };
        return list.items.find((e) => e.involvedObject.name === 'web' && e.reason === 'NotRealized');
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.equal(event.type, 'Warning');
    assert.match(event.message, /endpoint 10\.73\.5\.11 \(pod ks-a\/a\): no netloom endpoint has this address/);
  });

  it('a pod deleted, or no longer ready, leaves the endpoints', async () => {
    await api!.kubectl(['delete', 'pod', '-n', NS, 'b', '--wait=false']);
    await endpointsAre(['10.73.5.11:8080', '10.73.5.13:9090'], 'b gone from the endpoints');
    await setStatus('a', '10.73.5.11', false);
    await endpointsAre(['10.73.5.13:9090'], 'a not ready');
    await setStatus('a', '10.73.5.11', true);
    await endpointsAre(['10.73.5.11:8080', '10.73.5.13:9090'], 'a ready again');
  });

  it('an SCTP port gets a Warning Event; a headless Service is no intent; a deleted Service is gone', async () => {
    await apply(
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: sig, namespace: ks-a}',
        'spec:',
        '  selector: {app: web}',
        '  ports:',
        '    - {name: sig, port: 3868, protocol: SCTP}',
        '    - {name: http, port: 80, targetPort: http}',
        '',
      ].join('\n'),
    );
    await waitFor('the SCTP Service stored', async () => (await get(`kubeServices/${NS}:sig/`)).status === 200, { timeoutMs: 30_000 });
    const event = await waitFor(
      'a Warning Event on the Service',
      async () => {
        const list = (await api!.request('GET', `/api/v1/namespaces/${NS}/events`)).json as {
          items: Array<{ type: string; reason: string; message: string; involvedObject: { name: string } }>;
        };
        return list.items.find((e) => e.involvedObject.name === 'sig' && e.type === 'Warning');
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.equal(event.reason, 'PortNotBalanced');
    assert.match(event.message, /3868\/SCTP/);
    await apply(
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: headless, namespace: ks-a}',
        'spec:',
        '  clusterIP: None',
        '  selector: {app: web}',
        '  ports: [{port: 80}]',
        '',
      ].join('\n'),
    );
    await api!.kubectl(['delete', 'service', '-n', NS, 'web']);
    let names = '';
    await waitFor(
      'the deleted Service gone, the headless one never stored',
      async () => {
        // (the API server's own `kubernetes` Service in default is stored too)
        const list = (await get('kubeServices/')).json as unknown as Array<{ namespace: string; name: string }>;
        names = JSON.stringify(
          list
            .filter((s) => s.namespace === NS)
            .map((s) => s.name)
            .sort(),
        );
        return names === '["sig"]';
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${names}`);
    });
  });
});
