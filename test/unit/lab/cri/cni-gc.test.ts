/** CNI GC as the lab's kubelet stand-in sends it (deploy/lab/cri/cni-gc.ts), after the CNI 1.1 spec. */
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../../lib/errors';
import { gcNetconfs, validAttachments } from '../../../../deploy/lab/cri/cni-gc';
import { podConflist } from '../../../../deploy/lab/containerd';

describe('lab CRI: CNI GC with the runtime sandboxes', () => {
  it('one valid attachment per listed sandbox, on eth0', () => {
    assert.deepEqual(validAttachments([{ id: 'a' }, { id: 'b' }]), [
      { containerID: 'a', ifname: 'eth0' },
      { containerID: 'b', ifname: 'eth0' },
    ]);
  });

  it("the pods' conflist gives each plugin's netconf at cniVersion 1.1.0 with the network name and cni.dev/valid-attachments", () => {
    const valid = validAttachments([{ id: 'a' }]);
    const [nc, ...rest] = gcNetconfs(podConflist('/run/agent.sock'), valid);
    assert.equal(rest.length, 0);
    assert.deepEqual(nc, {
      type: 'netloom-cni',
      agentSocket: '/run/agent.sock',
      tenant: 'default',
      network: 'pods',
      capabilities: { portMappings: true },
      cniVersion: '1.1.0',
      name: 'netloom',
      'cni.dev/valid-attachments': valid,
    });
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['a conflist of CNI 1.0.0 only', { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'x' }] }, 'cniVersions'],
    ['no name', { cniVersion: '1.1.0', plugins: [{ type: 'x' }] }, 'name'],
    ['no plugins', { cniVersion: '1.1.0', name: 'n', plugins: [] }, 'plugins'],
    ['a plugin without type', { cniVersion: '1.1.0', name: 'n', plugins: [{ type: 'x' }, {}] }, 'plugins[1].type'],
  ];
  for (const [what, conflist, field] of bad) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.throws(
        () => gcNetconfs(conflist, []),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === field,
      );
    });
  }
});
