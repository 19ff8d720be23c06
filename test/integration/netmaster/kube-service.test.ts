/**
 * netmaster's Kubernetes controller follows Services and EndpointSlices (issue 19) against real
 * components: the API server stand-in on etcd (its EndpointSlice controller makes the slices from
 * the pods, as kube-controller-manager does), Debian's kubectl applying YAML as an admin would,
 * pod addresses and readiness set through the status subresource as a kubelet would, and a real
 * netmaster (`--kubeconfig`, leader) whose intent store is read back over REST. Shown: a NodePort
 * Service with a named targetPort becomes a kubeService with the cluster IP and node port the API
 * server allocated, and its slice a kubeServiceSlice with one endpoint per ready pod at that pod's
 * own port; a pod deleted (or not ready) leaves it; endpoints without a netloom endpoint, and an
 * SCTP port, get Warning Events; the Service deleted is gone. A large Service (600 ready endpoints
 * over six EndpointSlices applied by hand, as a controller with 100 per slice makes them): each
 * slice stored on its own, a change of one slice rewrites that slice only (etcd's revisions), a
 * slice past the store's limits gets a Warning Event and is not stored, the others are.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';
import { runCli } from '../../unit/netctl/run-cli';

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

  interface StoredSlice {
    namespace: string;
    service: string;
    slice: string;
    ports: Array<{ name: string; port: number }>;
    endpoints: Array<{ ip: string; pod?: { name: string } }>;
  }
  /** the stored slices of Service `service` */
  const slicesOf = async (service: string): Promise<StoredSlice[]> =>
    ((await get('kubeServiceSlices/')).json as unknown as StoredSlice[]).filter((s) => s.namespace === NS && s.service === service);

  /** the stored endpoints of Service web (its slices) as `ip:port`, sorted, once they are `want` */
  const endpointsAre = (want: string[], why: string): Promise<StoredSlice[]> =>
    waitFor(
      why,
      async () => {
        const slices = await slicesOf('web');
        const eps = slices.flatMap((s) => s.endpoints.map((e) => `${e.ip}:${s.ports.find((p) => p.name === 'http')?.port ?? 0}`)).sort();
        return JSON.stringify(eps) === JSON.stringify(want) ? slices : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

  /** the mod revisions of the stored keys under `prefix` (etcd's own view: what was written when) */
  const revisions = (prefix: string): Map<string, string> => {
    const out = execFileSync('etcdctl', ['--endpoints', etcd!.endpoint, 'get', '--prefix', prefix, '-w', 'json'], { encoding: 'utf8' });
    const kvs = (JSON.parse(out) as { kvs?: Array<{ key: string; mod_revision: number }> }).kvs ?? [];
    return new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), String(kv.mod_revision)]));
  };

  /** an EndpointSlice of Service `service` with `n` ready endpoints 10.74.<third>.<1..n> (by hand: no selector) */
  const bigSlice = (service: string, name: string, third: number, n: number): Json => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: n }, (_, i) => ({
      addresses: [`10.74.${third + Math.floor(i / 250)}.${(i % 250) + 1}`],
      conditions: { ready: true },
    })),
  });
  const applyJson = (items: Json[]) =>
    api!.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });

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
    const slices = await endpointsAre(['10.73.5.11:8080', '10.73.5.12:8080', '10.73.5.13:9090'], 'three endpoints, c at its own port');
    const stored = (await get(`kubeServices/${NS}:web/`)).json;
    const svc = (await api!.request('GET', `/api/v1/namespaces/${NS}/services/web`)).json as {
      spec: { clusterIP: string; ports: Array<{ nodePort: number }> };
    };
    assert.equal(stored.type, 'NodePort');
    assert.equal(stored.clusterIP, svc.spec.clusterIP, 'the cluster IP the API server allocated');
    assert.deepEqual(stored.ports, [{ name: 'http', protocol: 'TCP', port: 80, nodePort: svc.spec.ports[0]!.nodePort }]);
    assert.equal(stored.endpoints, undefined, 'the endpoints are in the slices, not in the Service');
    assert.ok(svc.spec.ports[0]!.nodePort >= 30000, 'a node port was allocated');
    const pods = slices.flatMap((s) => s.endpoints.map((e) => e.pod?.name)).sort();
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
        // (the problem reporter may warn first, NotRealized, about endpoints no netloom endpoint has)
        return list.items.find((e) => e.involvedObject.name === 'sig' && e.reason === 'PortNotBalanced');
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.equal(event.type, 'Warning');
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

  it('a Service of 600 ready endpoints over six EndpointSlices: each slice stored on its own; one slice changed: only it is written', async () => {
    const big = [
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: big, namespace: ks-a}',
      'spec:',
      '  ports: [{name: http, port: 80, targetPort: 8080}]',
      '',
    ];
    await apply(big.join('\n'));
    await applyJson(Array.from({ length: 6 }, (_, i) => bigSlice('big', `big-${i}`, 10 + i, 100)));
    const stored = await waitFor(
      'six slices of 100 stored',
      async () => {
        const s = await slicesOf('big');
        return s.length === 6 && s.every((x) => x.endpoints.length === 100) ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    assert.equal(new Set(stored.flatMap((s) => s.endpoints.map((e) => e.ip))).size, 600, '600 distinct endpoints');
    const prefix = '/netloom/v1/cfg/kubeServiceSlice/ks-a:big:';
    const before = revisions(prefix);
    const svcKey = '/netloom/v1/cfg/kubeService/ks-a:big';
    const svcBefore = revisions(svcKey).get(svcKey);
    assert.equal(before.size, 6);
    // one slice loses 10 endpoints
    await applyJson([bigSlice('big', 'big-3', 13, 90)]);
    await waitFor('big-3 has 90', async () => (await slicesOf('big')).find((s) => s.slice === 'big-3')?.endpoints.length === 90, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const after = revisions(prefix);
    const changed = [...after].filter(([k, r]) => before.get(k) !== r).map(([k]) => k.slice(prefix.length));
    assert.deepEqual(changed, ['big-3'], 'only the changed slice was written');
    assert.equal(revisions(svcKey).get(svcKey), svcBefore, 'the Service was not written');
    // netctl counts each slice's endpoints
    const ls = await runCli(['--netmaster', nm!.url, 'kube', 'endpointslice', 'ls', '-n', NS]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^Namespace +Service +Slice +Endpoints\n/);
    assert.match(ls.stdout, /\nks-a +big +big-3 +90\n/);
    assert.equal((ls.stdout.match(/ big-\d +100\n/g) ?? []).length, 5);
  });

  it("a slice past the store's limits: a Warning Event on the Service, not stored; a stored slice that grows past them is withdrawn; the other slices stay", async () => {
    await applyJson([bigSlice('big', 'big-huge', 20, 300)]);
    const event = await waitFor(
      'a NotRealized Event on big',
      async () => {
        const list = (await api!.request('GET', `/api/v1/namespaces/${NS}/events`)).json as {
          items: Array<{ type: string; reason: string; message: string; involvedObject: { name: string } }>;
        };
        return list.items.find((e) => e.involvedObject.name === 'big' && e.reason === 'NotRealized' && /big-huge/.test(e.message));
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.equal(event.type, 'Warning');
    assert.match(event.message, /endpoints must have at most 256 entries/);
    const slices = await slicesOf('big');
    assert.deepEqual(slices.map((s) => s.slice).sort(), ['big-0', 'big-1', 'big-2', 'big-3', 'big-4', 'big-5']);
    // big-3 (stored with 90) now holds 300: its stored endpoints are an older truth, withdrawn
    await applyJson([bigSlice('big', 'big-3', 30, 300)]);
    await waitFor('big-3 withdrawn', async () => (await slicesOf('big')).every((x) => x.slice !== 'big-3'), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    assert.deepEqual((await slicesOf('big')).map((s) => s.slice).sort(), ['big-0', 'big-1', 'big-2', 'big-4', 'big-5']);
  });
});
