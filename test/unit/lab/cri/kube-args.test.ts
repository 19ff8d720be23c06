/** `netloom-lab kube HOST ...`: the pod a user describes on the command line (deploy/lab/kube.ts, kube-cli.ts). */
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../../lib/errors';
import { labNodeConfig, labPodSpec, parseKeyValues, parsePortSpec, podRef } from '../../../../deploy/lab/kube';
import { kubeCommands } from '../../../../deploy/lab/kube-cli';

describe('lab kube: command-line pods', () => {
  it('--port [NAME:]PORT[/PROTO][:HOSTPORT]', () => {
    assert.deepEqual(parsePortSpec('80'), { containerPort: 80, protocol: 'TCP' });
    assert.deepEqual(parsePortSpec('http:80/TCP'), { name: 'http', containerPort: 80, protocol: 'TCP' });
    assert.deepEqual(parsePortSpec('dns:53/udp:5353'), { name: 'dns', containerPort: 53, protocol: 'UDP', hostPort: 5353 });
    assert.deepEqual(parsePortSpec('81:8081'), { containerPort: 81, protocol: 'TCP', hostPort: 8081 });
  });
  for (const bad of [
    '',
    'http',
    '0',
    '70000',
    '80/icmp',
    '80:0',
    'x_y:80',
    '-a:80',
    '1234:80/TCP',
    'a--b:80',
    'web:80/TCP:99999',
    'abcdefghijklmnop:80',
  ]) {
    it(`--port refuses "${bad}" naming port`, () => {
      assert.throws(
        () => parsePortSpec(bad),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'port',
      );
    });
  }

  it('--annotation KEY=VALUE (a value may hold =); a pair without = names the option', () => {
    assert.deepEqual(parseKeyValues(['a=1', 'netloom.io/x=k=v'], '--annotation'), { a: '1', 'netloom.io/x': 'k=v' });
    assert.throws(
      () => parseKeyValues(['novalue'], '--annotation'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'annotation',
    );
  });

  it('NAMESPACE/NAME or NAME', () => {
    assert.deepEqual(podRef('x/web'), { namespace: 'x', name: 'web' });
    assert.deepEqual(podRef('web', 'y'), { namespace: 'y', name: 'web' });
    assert.deepEqual(podRef('web'), { namespace: 'default', name: 'web' });
  });

  it('agnhost serves each declared port once; pause has no arguments', () => {
    const ports = [parsePortSpec('http:80/TCP'), parsePortSpec('dns:80/UDP'), parsePortSpec('81')];
    const a = labPodSpec({ name: 'a', ports, uid: 'u1' });
    assert.deepEqual(a.containers, [
      { name: 'agnhost', image: 'netloom.local/agnhost:1.0', args: ['serve', '--port', '80', '--port', '81'], ports },
    ]);
    assert.equal(a.namespace, 'default');
    const p = labPodSpec({ name: 'p', image: 'pause', uid: 'u2' });
    assert.deepEqual(p.containers, [{ name: 'pause', image: 'netloom.local/pause:1.0', ports: [] }]);
    assert.notEqual(labPodSpec({ name: 'a' }).uid, labPodSpec({ name: 'a' }).uid);
  });

  it("the lab node's logs and cgroups are per host; its cluster DNS is kubeadm's address", () => {
    assert.deepEqual(labNodeConfig({ dir: '/run/netloom-lab/kx', name: 'kx' }, 'host1'), {
      logRoot: '/run/netloom-lab/kx/hosts/host1/containerd/pods',
      cgroupRoot: '/nl-lab-kx-host1-pods',
      clusterDns: ['10.96.0.10'],
    });
  });

  it('run-pod takes repeatable --port, --label, --annotation and the image by its short name', () => {
    const run = kubeCommands('host1', () => 'kx').commands.find((c) => c.name() === 'run-pod');
    assert.ok(run);
    run.parseOptions([
      '--port',
      'http:80',
      '--port',
      '53/UDP',
      '--label',
      'app=web',
      '--label',
      'tier=1',
      '--image',
      'pause',
      '-n',
      'shop',
    ]);
    const o = run.opts<{ port: unknown[]; label: string[]; image: string; namespace: string }>();
    assert.equal(o.port.length, 2);
    assert.deepEqual(o.label, ['app=web', 'tier=1']);
    assert.equal(o.image, 'pause');
    assert.equal(o.namespace, 'shop');
  });
});
