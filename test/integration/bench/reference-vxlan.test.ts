/**
 * The dataplane benchmark's VXLAN reference (`ovs-vxlan-2host`, bench/support/reference-paths.ts)
 * on real OVS: TCP between its two containers crosses OVS's own userspace VXLAN tunnel (a
 * tnl_push datapath action on the client's switch, tnl_pop on the server's), with netloom-vxlan's
 * offload settings (tx checksum off, MTU 1450 in the containers), and its cleanup leaves nothing.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { listNetns } from '../../../deploy/lab/netns';
import { ovsEnv } from '../../../deploy/lab/ovs-instance';
import { run } from '../../../lib/exec';
import { cleanupStale, ovsVxlan2HostPath, ovsVxlanLayout, VXLAN_CTR_MTU, type BenchPath } from '../../../bench/support/reference-paths';
import { runIperf3 } from '../../../bench/support/perf-tools';

const L = ovsVxlanLayout();

async function datapathFlows(i: 0 | 1): Promise<string> {
  const r = await run('ovs-appctl', ['dpctl/dump-flows'], { netns: L.hostNs[i], env: ovsEnv(L.dirs[i]) });
  return r.stdout;
}

describe('dataplane benchmark: the ovs-vxlan-2host reference', function () {
  this.timeout(90_000);
  let path: BenchPath | undefined;

  after(async function () {
    this.timeout(30_000);
    await path?.cleanup();
    await cleanupStale();
  });

  it('carries TCP through OVS VXLAN tunnel ports (push on one switch, pop on the other) with tx checksum off, MTU 1450', async () => {
    path = await ovsVxlan2HostPath(1);
    assert.equal(path.name, 'ovs-vxlan-2host');
    const bps = await runIperf3(path.clientNs, path.serverNs, path.serverIp, 1);
    assert.ok(bps > 0, 'TCP crossed the tunnel');
    const [h1, h2] = [await datapathFlows(0), await datapathFlows(1)];
    // the VNI of the tunnel port (100) in the pushed header, and the pop of the VTEP's UDP port
    assert.match(h1, /tnl_push\(tnl_port\(\d+\),header\(.*vxlan\(flags=0x8000000,vni=0x64\)\)/);
    assert.match(h2, /udp\(dst=4789\).*actions:tnl_pop\(\d+\)/);
    for (const ns of L.ctrNs) {
      const k = await run('ethtool', ['-k', 'eth0'], { netns: ns });
      assert.match(k.stdout, /^tx-checksumming: off/m, `${ns}: tx checksum off (OVS 3.1 drops offloaded packets at a tunnel push)`);
      const link = await run('ip', ['-o', 'link', 'show', 'eth0'], { netns: ns });
      assert.match(link.stdout, new RegExp(`mtu ${VXLAN_CTR_MTU} `), `${ns}: MTU`);
    }
    // one idle port per switch, as asked
    const ports = await run('ovs-vsctl', ['list-ports', 'br-dp'], { netns: L.hostNs[0], env: ovsEnv(L.dirs[0]) });
    assert.deepEqual(ports.stdout.trim().split('\n').sort(), ['dpidle0', 'dpox1', 'vx0']);
  });

  it('removes its namespaces and OVS directories', async () => {
    assert.ok(path, 'built by the case before');
    await path.cleanup();
    const left = (await listNetns()).filter((n) => ([...L.hostNs, ...L.ctrNs] as string[]).includes(n));
    assert.deepEqual(left, []);
    for (const d of L.dirs) assert.equal(existsSync(d), false, `${d} removed`);
  });
});
