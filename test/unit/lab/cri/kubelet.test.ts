/** The kubelet's CRI requests as deploy/lab/cri/kubelet.ts builds them (what containerd and the CNI plugin then see). */
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../../lib/errors';
import {
  checkPod,
  containerConfig,
  podDnsConfig,
  podPortMappings,
  podSandboxConfig,
  type NodeConfig,
  type PodSpec,
} from '../../../../deploy/lab/cri/kubelet';

const node: NodeConfig = { logRoot: '/var/log/pods', cgroupRoot: '/kubepods/besteffort', clusterDns: ['10.96.0.10'] };
const pod: PodSpec = {
  name: 'web-0',
  namespace: 'shop',
  uid: '4b1e2c3d-0000-4000-8000-000000000001',
  labels: { app: 'web' },
  annotations: { 'netloom.io/network': 'front' },
  containers: [
    {
      name: 'agnhost',
      image: 'netloom.local/agnhost:1.0',
      args: ['serve', '--port', '80'],
      env: { A: '1' },
      ports: [
        { name: 'http', containerPort: 80 },
        { name: 'dns', containerPort: 53, protocol: 'UDP', hostPort: 5353 },
        // a repeated name is skipped, as MakePortMappings does
        { name: 'http', containerPort: 8080 },
      ],
    },
    { name: 'side', image: 'netloom.local/pause:1.0', ports: [{ containerPort: 9000, hostPort: 9000, hostIP: '10.0.0.1' }] },
  ],
};

describe('lab CRI: the kubelet-like request builder', () => {
  it('RunPodSandbox: metadata, hostname, log directory, labels with the pod identity, annotations as they are', () => {
    const c = podSandboxConfig(pod, node, 2);
    assert.deepEqual(c.metadata, { name: 'web-0', uid: pod.uid, namespace: 'shop', attempt: 2 });
    assert.equal(c.hostname, 'web-0');
    assert.equal(c.logDirectory, `/var/log/pods/shop_web-0_${pod.uid}`);
    assert.deepEqual(c.labels, {
      app: 'web',
      'io.kubernetes.pod.name': 'web-0',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': pod.uid,
    });
    assert.deepEqual(c.annotations, { 'netloom.io/network': 'front' });
  });

  it('a pod label cannot hide the pod identity labels', () => {
    const c = podSandboxConfig({ ...pod, labels: { 'io.kubernetes.pod.name': 'other' } }, node);
    assert.equal(c.labels?.['io.kubernetes.pod.name'], 'web-0');
  });

  it('port mappings: every container port in pod order, host port 0 when none, TCP by default', () => {
    assert.deepEqual(podPortMappings(pod), [
      { hostIp: '', hostPort: 0, containerPort: 80, protocol: 'TCP' },
      { hostIp: '', hostPort: 5353, containerPort: 53, protocol: 'UDP' },
      { hostIp: '10.0.0.1', hostPort: 9000, containerPort: 9000, protocol: 'TCP' },
    ]);
    assert.equal(podSandboxConfig({ ...pod, containers: [{ name: 'c', image: 'i' }] }, node).portMappings, undefined);
  });

  it("ClusterFirst DNS: the cluster's servers, the namespace's search path, ndots:5", () => {
    assert.deepEqual(podDnsConfig(pod, node), {
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
    assert.deepEqual(podDnsConfig(pod, { clusterDomain: 'lab' })?.servers, []);
  });

  it("the kubelet's default Linux sandbox config: the pod's cgroup, RuntimeDefault seccomp, network and IPC per pod, PID per container", () => {
    const l = podSandboxConfig(pod, node).linux;
    assert.equal(l?.cgroupParent, `/kubepods/besteffort/pod${pod.uid}`);
    assert.deepEqual(l?.securityContext?.seccomp, { profileType: 'RuntimeDefault' });
    assert.deepEqual(l?.securityContext?.namespaceOptions, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    assert.equal(l?.securityContext?.privileged, false);
  });

  it('CreateContainer: image, args, env, container labels, log path relative to the sandbox, the kubelet annotations', () => {
    const c = containerConfig(pod, pod.containers[0]!, 1);
    assert.deepEqual(c.metadata, { name: 'agnhost', attempt: 1 });
    assert.deepEqual(c.image, { image: 'netloom.local/agnhost:1.0' });
    assert.deepEqual(c.args, ['serve', '--port', '80']);
    assert.deepEqual(c.envs, [{ key: 'A', value: '1' }]);
    assert.equal(c.logPath, 'agnhost/1.log');
    assert.deepEqual(c.labels, {
      'io.kubernetes.container.name': 'agnhost',
      'io.kubernetes.pod.name': 'web-0',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': pod.uid,
    });
    assert.equal(c.annotations?.['io.kubernetes.container.restartCount'], '1');
    assert.equal(c.annotations?.['io.kubernetes.pod.terminationGracePeriod'], '30');
    assert.match(c.annotations?.['io.kubernetes.container.hash'] ?? '', /^[0-9a-f]{8}$/);
    assert.equal(
      c.annotations?.['io.kubernetes.container.hash'],
      containerConfig(pod, pod.containers[0]!).annotations?.['io.kubernetes.container.hash'],
    );
  });

  const bad: Array<[string, PodSpec, string]> = [
    ['an upper-case name', { ...pod, name: 'Web' }, 'metadata.name'],
    ['a namespace with a dot', { ...pod, namespace: 'a.b' }, 'metadata.namespace'],
    ['no uid', { ...pod, uid: '' }, 'metadata.uid'],
    ['no containers', { ...pod, containers: [] }, 'spec.containers'],
    ['a container twice', { ...pod, containers: [pod.containers[1]!, pod.containers[1]!] }, 'spec.containers[1].name'],
    [
      'port 0',
      { ...pod, containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 0 }] }] },
      'spec.containers[0].ports[0].containerPort',
    ],
    [
      'host port 70000',
      { ...pod, containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 1, hostPort: 70000 }] }] },
      'spec.containers[0].ports[0].hostPort',
    ],
  ];
  for (const [what, p, field] of bad) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.throws(
        () => checkPod(p),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === field,
      );
      assert.throws(
        () => podSandboxConfig(p, node),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
      );
    });
  }
});
