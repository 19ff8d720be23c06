/**
 * Bad input a NetworkPolicy can carry, through the API stand-in with kubectl and a real netmaster
 * (`--kubeconfig`, leader): a named port that no pod the policy concerns has gets one Warning Event
 * on the policy saying which (readable with `kubectl get events`), not one per relist, and the
 * Event goes once the port resolves; an invalid CIDR is refused by the API naming the field, and
 * nothing of it is stored, in the API or in netmaster.
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';

const NS = 'kb-np';

const pod = (name: string, labels: Record<string, string>, ports: Array<[string, number]>): string =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${NS}`,
    `  labels: {${Object.entries(labels)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}}`,
    'spec:',
    '  containers:',
    '    - name: c',
    '      image: nlpod:test',
    '      ports:',
    ...ports.map(([n, p]) => `        - {name: ${n}, containerPort: ${p}}`),
    '',
  ].join('\n');

const namedPolicy = [
  'apiVersion: networking.k8s.io/v1',
  'kind: NetworkPolicy',
  'metadata:',
  '  name: web-metrics',
  `  namespace: ${NS}`,
  'spec:',
  '  podSelector:',
  '    matchLabels: {app: web}',
  '  ingress:',
  '    - ports:',
  '        - port: http',
  '        - port: metrics',
  '',
].join('\n');

interface EventItem {
  reason: string;
  type: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

describe('netmaster: NetworkPolicy bad input (API stand-in, kubectl, real netmaster)', function () {
  this.timeout(120_000);
  let etcd: EtcdFixture | undefined;
  let api: KubeApiFixture | undefined;
  let nm: RunningNetmaster | undefined;
  const logger = createLogger('kb-named-ports-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });

  const start = (): Promise<RunningNetmaster> =>
    startNetmaster({
      etcdEndpoints: [etcd!.endpoint],
      logger,
      agent: {
        grpcListen: '127.0.0.1:0',
        agentLeaseTtlSeconds: 10,
        deadHostGraceMs: 600_000,
        leaderLeaseTtlSeconds: 2,
        replicaId: 'kb-np-r0',
        kubeconfig: api!.kubeconfig,
      },
    });
  const metricsText = async (): Promise<string> => (await fetch(`${nm!.url}/metrics`)).text();
  const apply = (yaml: string) => api!.kubectl(['apply', '-f', '-'], { input: yaml });
  const namedPortEvents = async (): Promise<EventItem[]> => {
    const out = await api!.kubectl(['get', 'events', '-n', NS, '-o', 'json']);
    return ((JSON.parse(out.stdout) as { items: EventItem[] }).items ?? []).filter((e) => e.reason === 'NamedPortUnresolved');
  };

  before(async () => {
    etcd = await startTestEtcd('kb-named-ports', 27596);
    api = await startKubeApi({ name: 'kb-np', etcdEndpoint: etcd.endpoint, port: 27546, bookmarkIntervalSeconds: 1 });
    nm = await start();
    await api.kubectl(['create', 'namespace', NS]);
  });

  after(async () => {
    await nm?.stop().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await etcd?.stop();
  });

  it('a named port no selected pod has: one Warning Event naming it, not repeated on a relist, gone once it resolves', async () => {
    await apply(pod('web-1', { app: 'web' }, [['http', 8080]]));
    await apply(pod('db-1', { app: 'db' }, [['metrics', 9100]])); // has the name, but is not selected
    await apply(namedPolicy);
    const [ev] = await waitFor('the Warning Event on the policy', async () => {
      const evs = await namedPortEvents();
      return evs.length > 0 ? evs : undefined;
    });
    assert.equal(ev!.type, 'Warning');
    assert.deepEqual([ev!.involvedObject.kind, ev!.involvedObject.name], ['NetworkPolicy', 'web-metrics']);
    assert.match(ev!.message, /named port metrics\/TCP \(ingress rule 0\) resolves on no pod/);
    assert.doesNotMatch(ev!.message, /http/, 'http resolves on web-1');

    // a relist storm: the API server restarts (every watch resumes), then a new leader term lists
    // everything again with nothing in memory, and an unrelated pod changes
    await api!.restart();
    await nm!.stop();
    nm = await start();
    await apply(pod('db-2', { app: 'db' }, [['metrics', 9100]]));
    await waitFor('the new term found the Event already posted', async () =>
      /netmaster_kube_named_port_events_total\{action="adopted"\} 1/.test(await metricsText()),
    );
    const checks = () => metricsText().then((t) => Number(/netmaster_kube_named_port_checks_total (\d+)/.exec(t)?.[1] ?? 0));
    const before = await checks();
    await apply(pod('db-3', { app: 'db' }, []));
    await waitFor('a check after the last change', async () => (await checks()) > before);
    assert.equal((await namedPortEvents()).length, 1, 'one Event for one unresolved set');
    assert.doesNotMatch(await metricsText(), /named_port_events_total\{action="posted"\}/, 'the new term posted nothing');

    // a selected pod gets the port: the Event is deleted
    await apply(pod('web-2', { app: 'web' }, [['metrics', 9100]]));
    await waitFor('the Event gone once metrics resolves', async () => (await namedPortEvents()).length === 0);
    assert.match(await metricsText(), /netmaster_kube_named_port_events_total\{action="deleted"\} 1/);

    // it breaks again (web-2 deleted): reported again
    await api!.kubectl(['delete', 'pod', '-n', NS, 'web-2']);
    await waitFor('a new Event after the port stops resolving', async () => (await namedPortEvents()).length === 1);
  });

  it('an invalid CIDR is refused by kubectl apply naming the field; nothing is stored', async () => {
    const bad = [
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata:',
      '  name: kb-bad-cidr',
      `  namespace: ${NS}`,
      'spec:',
      '  podSelector: {}',
      '  ingress:',
      '    - from:',
      '        - ipBlock: {cidr: 10.0.0.0/33}',
      '',
    ].join('\n');
    const out = await api!.kubectl(['apply', '-f', '-'], { input: bad, allowFailure: true });
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: Invalid value: "10\.0\.0\.0\/33"/);
    const got = await api!.kubectl(['get', 'networkpolicy', '-n', NS, 'kb-bad-cidr'], { allowFailure: true });
    assert.notEqual(got.code, 0);
    assert.match(got.stderr, /NotFound/);
    // netmaster has the good policy and not the bad one
    await waitFor('web-metrics in netmaster', async () => (await fetch(`${nm!.url}/api/v1/kubeNetworkPolicies/${NS}:web-metrics/`)).ok);
    assert.equal((await fetch(`${nm!.url}/api/v1/kubeNetworkPolicies/${NS}:kb-bad-cidr/`)).status, 404);
  });
});
