/**
 * `netloom-lab up --kube-api`: the Kubernetes API server stand-in on the lab's etcd (TLS with a client
 * certificate of the lab's etcd CA), serving with a certificate of the lab CA on the management
 * network, and a kubeconfig (`netloom-lab kubeconfig`) that kubectl and @kubernetes/client-node
 * use as they are; reachable from a lab host; gone with `down`.
 */
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { LabStatus } from '../../../deploy/lab/lab';
import { kubeApiPaths } from '../../../deploy/lab/kube-api';
import { planLab } from '../../../deploy/lab/plan';
import { pkiPaths } from '../../../deploy/lab/pki';
import { run } from '../../../lib/exec';
import { isAlive } from '../../../lib/process';
import { kubectlPath } from '../../support/kube-apiserver';
import { labCli } from '../../support/lab-cli';

const LAB = 'tkapi';
const lab = labCli(LAB);

describe('the lab with a Kubernetes API (up --kube-api)', function () {
  this.timeout(180_000);
  const plan = planLab({ name: LAB, hosts: 1, etcdMembers: 1, netmasters: 0 });
  let kubeconfig = '';
  const kubectl = (args: string[], allowFailure = false) =>
    run(kubectlPath(), ['--kubeconfig', kubeconfig, '--cache-dir', `${plan.dir}/kubectl-cache`, ...args], {
      allowFailure,
      timeoutMs: 60_000,
    });

  before(async function () {
    await lab(['up', '--hosts', '1', '--no-agents', '--netmasters', '0', '--kube-api'], false, 150_000);
    kubeconfig = (await lab(['kubeconfig'])).stdout.trim();
  });
  after(async function () {
    await lab(['down'], true);
  });

  it('writes a kubeconfig kubectl uses as is: the lab CA, an admin token, the API on the management address', async function () {
    assert.equal(kubeconfig, kubeApiPaths(plan).kubeconfig);
    const ns = await kubectl(['get', 'namespaces', '-o', 'name']);
    assert.deepEqual(ns.stdout.trim().split('\n').sort(), [
      'namespace/default',
      'namespace/kube-node-lease',
      'namespace/kube-public',
      'namespace/kube-system',
    ]);
    await kubectl(['create', 'namespace', 'lab-test']);
    assert.match(
      (await kubectl(['get', 'namespace', 'lab-test', '-o', 'jsonpath={.metadata.labels}'])).stdout,
      /kubernetes.io\/metadata.name/,
    );
    const status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    assert.equal(status.kubeApi?.url, `https://${plan.rootMgmtIp}:${13000 + plan.index * 100 + 43}`);
    assert.equal(status.kubeApi?.healthy, true);
  });

  it('serves @kubernetes/client-node with the same kubeconfig, and a lab host over the management network', async function () {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespace();
    assert.ok(list.items.some((n) => n.metadata?.name === 'lab-test'));
    const token = kc.getCurrentUser()?.token ?? '';
    const host = plan.hosts[0]!;
    const fromHost = await run(
      'curl',
      [
        '-sf',
        '--cacert',
        pkiPaths(plan).ca.cert,
        '-H',
        `Authorization: Bearer ${token}`,
        `${kubeApiPaths(plan).url}/api/v1/namespaces/lab-test`,
      ],
      { netns: host.netns, timeoutMs: 20_000 },
    );
    assert.equal((JSON.parse(fromHost.stdout) as { metadata: { name: string } }).metadata.name, 'lab-test');
    const anonymous = await run(
      'curl',
      ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', pkiPaths(plan).ca.cert, `${kubeApiPaths(plan).url}/api/v1/namespaces`],
      {
        netns: host.netns,
        timeoutMs: 20_000,
      },
    );
    assert.equal(anonymous.stdout, '401');
  });

  it('stops the API with the lab', async function () {
    const status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    const pid = status.kubeApi?.pid ?? 0;
    assert.ok(pid > 0 && isAlive(pid));
    await lab(['down']);
    assert.ok(!isAlive(pid), 'the API server is gone');
    const r = await lab(['kubeconfig'], true);
    assert.notEqual(r.code, 0);
  });
});
