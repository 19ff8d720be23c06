/**
 * netmaster's Kubernetes controller against real components: the API server stand-in on etcd,
 * driven with Debian's kubectl as an admin would, and a real netmaster (`--kubeconfig`, leader)
 * whose intent store is read back over REST. Shown: NetworkPolicies and Namespaces become intent
 * and follow updates and deletes; a new leader term replaces what changed while no controller
 * ran; the controller survives the API server restarting and a watch that expired (410, relist).
 */
import { strict as assert } from 'node:assert';
import { Etcd3 } from 'etcd3';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';

type Json = Record<string, unknown>;

const policy = (ns: string, name: string, podLabel: string, port: number): string =>
  [
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${ns}`,
    'spec:',
    '  podSelector:',
    `    matchLabels: {pod: ${podLabel}}`,
    '  ingress:',
    '    - from:',
    '        - namespaceSelector: {matchLabels: {team: blue}}',
    '      ports:',
    `        - port: ${port}`,
    '',
  ].join('\n');

const namespace = (name: string, labels: Record<string, string>): string =>
  [
    'apiVersion: v1',
    'kind: Namespace',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    ...Object.entries(labels).map(([k, v]) => `    ${k}: ${v}`),
    '',
  ].join('\n');

describe('netmaster: the Kubernetes controller (API stand-in, kubectl, real netmaster)', function () {
  this.timeout(120_000);
  let etcd: EtcdFixture | undefined;
  let api: KubeApiFixture | undefined;
  let nm: RunningNetmaster | undefined;
  const logger = createLogger('kube-controller-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });

  const start = (): Promise<RunningNetmaster> =>
    startNetmaster({
      etcdEndpoints: [etcd!.endpoint],
      logger,
      agent: {
        grpcListen: '127.0.0.1:0',
        agentLeaseTtlSeconds: 10,
        deadHostGraceMs: 600_000,
        leaderLeaseTtlSeconds: 2,
        replicaId: 'kc-r0',
        kubeconfig: api!.kubeconfig,
      },
    });

  async function get(path: string): Promise<{ status: number; json: Json }> {
    const res = await fetch(`${nm!.url}/api/v1/${path}`);
    return { status: res.status, json: (await res.json()) as Json };
  }
  const policies = async (): Promise<string[]> => {
    const list = (await get('kubeNetworkPolicies/')).json as unknown as Array<{ key?: string; namespace?: string; name?: string }>;
    return list.map((p) => `${p.namespace}/${p.name}`).sort();
  };
  const waitPolicies = (want: string[], why: string): Promise<string[]> =>
    waitFor(
      why,
      async () => {
        const got = await policies();
        return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  const apply = (yaml: string) => api!.kubectl(['apply', '-f', '-'], { input: yaml });

  before(async () => {
    etcd = await startTestEtcd('kc-kube-ctl', 27196);
    api = await startKubeApi({ name: 'kc-ctl', etcdEndpoint: etcd.endpoint, port: 27446, bookmarkIntervalSeconds: 1 });
    nm = await start();
  });

  after(async () => {
    await nm?.stop().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await etcd?.stop();
  });

  it('keeps NetworkPolicies and Namespaces as intent: created, changed and deleted with kubectl', async () => {
    await apply(namespace('kc-x', { team: 'blue' }));
    await apply(policy('kc-x', 'web', 'a', 80));
    await waitPolicies(['kc-x/web'], 'the policy in netmaster');
    const stored = (await get('kubeNetworkPolicies/kc-x:web/')).json;
    assert.deepEqual(stored.podSelector, { matchLabels: { pod: 'a' }, matchExpressions: [] }, JSON.stringify(stored));
    const ns = await waitFor('the namespace with its labels', async () => {
      const r = await get('kubeNamespaces/kc-x/');
      return r.status === 200 ? r.json : undefined;
    });
    assert.deepEqual(ns.labels, { team: 'blue', 'kubernetes.io/metadata.name': 'kc-x' });

    await api!.kubectl(['label', 'namespace', 'kc-x', 'team=red', '--overwrite']);
    await waitFor('the namespace label change', async () => ((await get('kubeNamespaces/kc-x/')).json.labels as Json)?.team === 'red');
    await apply(policy('kc-x', 'web', 'a', 8080));
    await waitFor('the policy change', async () => JSON.stringify((await get('kubeNetworkPolicies/kc-x:web/')).json).includes('8080'));
    await api!.kubectl(['delete', 'networkpolicy', '-n', 'kc-x', 'web']);
    await waitPolicies([], 'the deleted policy gone');
  });

  it('a new leader term replaces what changed while no controller ran', async () => {
    await apply(policy('kc-x', 'stays', 'a', 81));
    await apply(policy('kc-x', 'goes', 'b', 82));
    await waitPolicies(['kc-x/goes', 'kc-x/stays'], 'both policies');
    await nm!.stop();
    nm = undefined;
    await api!.kubectl(['delete', 'networkpolicy', '-n', 'kc-x', 'goes']);
    await apply(policy('kc-x', 'new', 'c', 83));
    nm = await start();
    await waitPolicies(['kc-x/new', 'kc-x/stays'], 'the deleted one gone and the new one there after the restart');
  });

  it('survives the API server restarting, and a watch whose version etcd compacted (410, relist)', async () => {
    await api!.restart();
    await apply(policy('kc-x', 'after-restart', 'a', 84));
    await waitPolicies(['kc-x/after-restart', 'kc-x/new', 'kc-x/stays'], 'a policy made after the API server restarted');

    // the controller's watch is at some version; stop the server, compact etcd past it, start again
    await api!.stopServer();
    const raw = new Etcd3({ hosts: etcd!.endpoint });
    try {
      await raw.put('/kc-test/bump').value('1');
      const rev = (await raw.get('/kc-test/bump').exec()).header.revision;
      await raw.kv.compact({ revision: rev, physical: true });
    } finally {
      raw.close();
    }
    await api!.startServer();
    await api!.kubectl(['delete', 'networkpolicy', '-n', 'kc-x', 'stays']);
    await apply(policy('kc-x', 'after-410', 'b', 85));
    await waitPolicies(['kc-x/after-410', 'kc-x/after-restart', 'kc-x/new'], 'the changes after the compaction');
    const metrics = await (await fetch(`${nm!.url}/metrics`)).text();
    const lists = Number(/netmaster_kube_lists_total\{resource="policies"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    assert.ok(lists >= 2, `a relist happened (lists: ${lists})`);
  });
});
