/** A lab host's containerd (deploy/lab/containerd.ts): its private config, the pods' conflist, the shims' sockets. */
import { strict as assert } from 'node:assert';
import { containerdConfig, podConflist, shimSocketPath } from '../../../../deploy/lab/containerd';
import { containerdPaths, podCgroupRoot } from '../../../../deploy/lab/containerd-paths';

describe('lab containerd', () => {
  const p = containerdPaths({ dir: '/run/netloom-lab/kx' }, 'host2');

  it('keeps everything under the host dir', () => {
    for (const v of Object.values(p)) assert.ok(v.startsWith('/run/netloom-lab/kx/hosts/host2/containerd'), v);
    assert.equal(podCgroupRoot({ name: 'kx' }, 'host2'), '/nl-lab-kx-host2-pods');
  });

  it('config: private root, state, sockets and runc root; the CRI on the lab CNI and pause image, with the traps of this machine kind', () => {
    const c = containerdConfig(p);
    for (const line of [
      `root = "${p.root}"`,
      `state = "${p.state}"`,
      `  address = "${p.socket}"`,
      `  address = "${p.ttrpcSocket}"`,
      '  sandbox_image = "netloom.local/pause:1.0"',
      '  netns_mounts_under_state_dir = true',
      '  restrict_oom_score_adj = true',
      `  bin_dir = "${p.cniBin}"`,
      `  conf_dir = "${p.cniConf}"`,
      '  runtime_type = "io.containerd.runc.v2"',
      `  Root = "${p.runcRoot}"`,
    ])
      assert.ok(c.split('\n').includes(line), `missing: ${line}`);
    assert.match(c, /disabled_plugins = \[[^\]]*"io\.containerd\.internal\.v1\.opt"/);
  });

  it("the pods' conflist: CNI 1.0.0 for containerd 1.6's libcni, 1.1.0 for GC, only the portMappings capability", () => {
    assert.deepEqual(podConflist('/a.sock'), {
      cniVersion: '1.0.0',
      cniVersions: ['1.0.0', '1.1.0'],
      name: 'netloom',
      plugins: [{ type: 'netloom-cni', agentSocket: '/a.sock', tenant: 'default', network: 'pods', capabilities: { portMappings: true } }],
    });
  });

  it("a shim's socket as containerd 1.6 names it (checked against a running one)", () => {
    assert.equal(
      shimSocketPath('/tmp/kc-exp/cd/containerd.sock', 'c157cafea50398513ebcc486a9375044a3016d7735415e8b867bc02eb80bb440'),
      '/run/containerd/s/ff8c2ca43379b4469580d0cac1f35ee65ed4d3f793caa53786210be5a55f5b60',
    );
  });
});
