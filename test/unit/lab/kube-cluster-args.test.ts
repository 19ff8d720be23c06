/**
 * `netloom-lab up --kube` (pure parts): the kubelet stand-in's command line (the lab's kubeconfig,
 * the host's containerd, its node name and address, the node settings `kube run-pod` uses too),
 * the agents' Kubernetes flags, netmaster's --kubeconfig.
 */
import { strict as assert } from 'node:assert';
import { agentArgs } from '../../../deploy/lab/agents';
import { containerdPaths, labNodeConfig, LAB_CLUSTER_DNS } from '../../../deploy/lab/containerd-paths';
import { kubeApiPaths } from '../../../deploy/lab/kube-api';
import { kubeletArgs, KUBELET_JS } from '../../../deploy/lab/kubelets';
import { netmasterArgs } from '../../../deploy/lab/lab';
import { planLab } from '../../../deploy/lab/plan';

const flag = (args: readonly string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};

describe('lab up --kube: command lines', () => {
  const plan = planLab({ name: 'kex', hosts: 3, etcdMembers: 1, netmasters: 1 }, '/r');
  const h2 = plan.hosts[1]!;

  it("the kubelet of a host: the lab's API, the host's containerd, its name and management address", () => {
    const a = kubeletArgs(plan, h2);
    assert.equal(a[0], KUBELET_JS);
    assert.equal(flag(a, '--kubeconfig'), kubeApiPaths(plan).kubeconfig);
    assert.equal(flag(a, '--hostname-override'), 'host2');
    assert.equal(flag(a, '--container-runtime-endpoint'), containerdPaths(plan, 'host2').socket);
    assert.equal(flag(a, '--node-ip'), h2.mgmtIp);
    const node = labNodeConfig(plan, 'host2');
    assert.equal(flag(a, '--pod-logs-dir'), node.logRoot);
    assert.equal(flag(a, '--cgroup-root'), node.cgroupRoot);
    assert.equal(flag(a, '--cluster-dns'), LAB_CLUSTER_DNS);
  });

  it('agents read the API as their host, tenant per namespace only when asked', () => {
    const kubeconfig = kubeApiPaths(plan).kubeconfig;
    const plain = agentArgs(plan, h2);
    assert.equal(flag(plain, '--kubeconfig'), undefined);
    const kube = agentArgs(plan, h2, { kube: { kubeconfig, tenantPerNamespace: false } });
    assert.equal(flag(kube, '--kubeconfig'), kubeconfig);
    assert.equal(flag(kube, '--kube-node-name'), 'host2');
    assert.ok(!kube.includes('--kube-tenant-per-namespace'));
    assert.ok(agentArgs(plan, h2, { kube: { kubeconfig, tenantPerNamespace: true } }).includes('--kube-tenant-per-namespace'));
  });

  it('agents get --one-bridge only when the lab is up with it', () => {
    assert.ok(!agentArgs(plan, h2).includes('--one-bridge'));
    assert.ok(agentArgs(plan, h2, { oneBridge: true }).includes('--one-bridge'));
  });

  it('netmaster runs its Kubernetes controller only with a kubeconfig', () => {
    const nm = plan.netmasters[0]!;
    assert.equal(flag(netmasterArgs(plan, nm), '--kubeconfig'), undefined);
    assert.equal(flag(netmasterArgs(plan, nm, '/k/config'), '--kubeconfig'), '/k/config');
  });
});
