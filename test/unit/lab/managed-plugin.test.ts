/**
 * The managed (v2) plugin's package (deploy/docker-plugin/managed-plugin.ts) and how the lab wires
 * it: the config.json Docker reads, and the agent's swarm socket where the plugin's mount finds it.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AGENT_SOCKET_DIR,
  AGENT_SWARM_SOCKET_NAME,
  buildPluginDir,
  pluginConfig,
  pluginName,
  PLUGIN_REPO,
} from '../../../deploy/docker-plugin/managed-plugin';
import { agentArgs } from '../../../deploy/lab/agents';
import { agentPaths, planLab } from '../../../deploy/lab/plan';

interface Mount {
  source: string;
  destination: string;
  type: string;
  options: string[];
  settable: string[];
}

describe('managed Docker plugin (swarm)', () => {
  it('config.json: network and IPAM driver on netloom.sock, host network, no capabilities, the agent socket dir mounted (settable)', () => {
    const c = pluginConfig() as {
      interface: { types: string[]; socket: string };
      network: { type: string };
      linux: { capabilities: string[] };
      mounts: Mount[];
      entrypoint: string[];
    };
    assert.deepEqual(c.interface, { types: ['docker.networkdriver/1.0', 'docker.ipamdriver/1.0'], socket: 'netloom.sock' });
    assert.equal(c.network.type, 'host');
    assert.deepEqual(c.linux.capabilities, []);
    assert.equal(c.mounts.length, 1);
    const m = c.mounts[0]!;
    assert.deepEqual([m.source, m.destination, m.type, m.settable], [AGENT_SOCKET_DIR, AGENT_SOCKET_DIR, 'bind', ['source']]);
    // the relay listens where dockerd looks for a v2 plugin's socket, and forwards to the agent's swarm socket
    assert.deepEqual(c.entrypoint, [
      '/netloom-plugin-relay',
      '/run/docker/plugins/netloom.sock',
      `${AGENT_SOCKET_DIR}/${AGENT_SWARM_SOCKET_NAME}`,
    ]);
  });

  it('is named netloom/netloom:<package version>', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as { version: string };
    assert.equal(pluginName(), `${PLUGIN_REPO}:${pkg.version}`);
  });

  it('the plugin directory holds config.json and a rootfs with the executable relay', async function () {
    this.timeout(120_000); // compiles the relay when dist/bin has none
    const dir = mkdtempSync(join(tmpdir(), 'nl-swplugin-'));
    try {
      const p = await buildPluginDir(dir);
      assert.deepEqual(JSON.parse(readFileSync(join(p, 'config.json'), 'utf8')), pluginConfig());
      const relay = join(p, 'rootfs', 'netloom-plugin-relay');
      assert.ok(existsSync(relay));
      assert.ok((statSync(relay).mode & 0o111) !== 0, 'executable');
      for (const d of ['run/docker/plugins', 'run/netloom']) assert.ok(statSync(join(p, 'rootfs', d)).isDirectory(), d);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the lab's agent serves the swarm socket at /run/netloom/cnm-swarm.sock of its dockerd's mount namespace", () => {
    const plan = planLab({ name: 'tfx', hosts: 2, etcdMembers: 1, netmasters: 1 }, '/r');
    const p = agentPaths(plan, 'host2');
    assert.equal(p.cnmSwarmSocket, `${p.dockerRun}${AGENT_SOCKET_DIR.slice('/run'.length)}/${AGENT_SWARM_SOCKET_NAME}`);
    const a = agentArgs(plan, plan.hosts[1]!);
    assert.equal(a[a.indexOf('--cnm-swarm-socket') + 1], p.cnmSwarmSocket);
  });
});
