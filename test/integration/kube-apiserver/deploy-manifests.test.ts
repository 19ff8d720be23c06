/**
 * deploy/kubernetes/ against the API server stand-in, with Debian's kubectl 1.20, as an admin
 * would install netloom: a server dry run (the namespace first, as on a real cluster: a dry run
 * creates nothing, so objects in a namespace made by the same dry run are refused), then the
 * apply, then an apply that changes nothing.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';

const MANIFESTS = resolve(__dirname, '../../../../deploy/kubernetes');

describe('deploy/kubernetes/ applied to the API server stand-in', function () {
  let etcd: EtcdFixture;
  let api: KubeApiFixture;
  const lines = (out: string): string[] => out.trim().split('\n').sort();

  before(async function () {
    etcd = await startTestEtcd('ka-deploy', 27440);
    api = await startKubeApi({ name: 'ka-deploy', etcdEndpoint: etcd.endpoint, port: 27446 });
  });
  after(async function () {
    await api?.stop();
    await etcd?.stop();
  });

  it('passes a server dry run once its namespace exists, and writes nothing', async function () {
    const early = await api.kubectl(['apply', '--dry-run=server', '-f', MANIFESTS], { allowFailure: true });
    assert.notEqual(early.code, 0);
    assert.match(early.stderr, /namespaces "netloom-system" not found/, 'a dry run does not create the namespace, as on a real cluster');
    await api.kubectl(['apply', '-f', `${MANIFESTS}/00-namespace.yaml`]);
    const dry = await api.kubectl(['apply', '--dry-run=server', '-f', MANIFESTS]);
    for (const l of lines(dry.stdout)) assert.match(l, /(created|unchanged) \(server dry run\)$/);
    assert.ok(dry.stdout.includes('daemonset.apps/netloom-netplugin created (server dry run)'), dry.stdout);
    assert.ok(dry.stdout.includes('deployment.apps/netloom-netmaster created (server dry run)'), dry.stdout);
    const stored = await api.kubectl(['get', 'daemonsets,deployments,configmaps,serviceaccounts', '-n', 'netloom-system', '-o', 'name']);
    assert.equal(stored.stdout.trim(), '', 'nothing was written');
  });

  it('applies, and a second apply changes nothing', async function () {
    const first = await api.kubectl(['apply', '-f', MANIFESTS]);
    assert.ok(
      lines(first.stdout).every((l) => / (created|unchanged)$/.test(l)),
      first.stdout,
    );
    assert.ok(first.stdout.includes('daemonset.apps/netloom-netplugin created'));
    const again = await api.kubectl(['apply', '-f', MANIFESTS]);
    for (const l of lines(again.stdout)) assert.match(l, / unchanged$/);
    const ds = JSON.parse((await api.kubectl(['get', 'daemonset', 'netloom-netplugin', '-n', 'netloom-system', '-o', 'json'])).stdout) as {
      metadata: { generation: number };
      spec: { template: { spec: { serviceAccountName: string } } };
    };
    assert.equal(ds.metadata.generation, 1);
    assert.equal(ds.spec.template.spec.serviceAccountName, 'netloom-netplugin');
  });
});
