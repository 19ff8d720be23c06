/**
 * VLAN and VXLAN networks at the same time on the same hosts: br-phy carries the tagged frames of
 * the VLAN network and the VXLAN packets of the other over the one data NIC (docs/netplugin.md).
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { pingEventually, tcpTransfer } from '../../support/traffic';
import { Ctr, fabricLabHooks, pingOnce, Scenario } from './support';

describe('netplugin agents on the lab, a VLAN and a VXLAN network side by side', function () {
  this.timeout(60_000);
  const c = (name: string, host: string, network: string, ip: string, mac: string): Ctr => ({ name, host, tenant: 't1', network, ip, mac });
  const a1 = c('ma1', 'host1', 'blue', '10.52.1.1', '02:00:00:00:05:01');
  const b2 = c('mb2', 'host2', 'blue', '10.52.1.2', '02:00:00:00:05:02');
  const g1 = c('mg1', 'host1', 'green', '10.52.2.1', '02:00:00:00:06:01');
  const h2 = c('mh2', 'host2', 'green', '10.52.2.2', '02:00:00:00:06:02');
  const sc: Scenario = {
    encap: 'vlan',
    tenants: [{ name: 't1', vrfId: 1, ctZone: 1 }],
    networks: [
      { tenant: 't1', name: 'blue', tag: 300, subnet: '10.52.1.0/24', gateway: '10.52.1.254', networkId: 1, encap: 'vlan' },
      { tenant: 't1', name: 'green', tag: 7300, subnet: '10.52.2.0/24', gateway: '10.52.2.254', networkId: 2, encap: 'vxlan' },
    ],
    containers: [a1, b2, g1, h2],
  };

  const lab = fabricLabHooks(sc, 60_000);

  it('both networks carry ping and TCP across hosts over the one data NIC', async () => {
    assert.ok(await pingOnce(lab.ns(a1), b2.ip, 2), 'VLAN ping');
    assert.ok(await pingOnce(lab.ns(g1), h2.ip, 2), 'VXLAN ping');
    const vlan = await tcpTransfer(lab.ns(a1), lab.ns(b2), b2.ip, { seconds: 1, port: 5321 });
    const vxlan = await tcpTransfer(lab.ns(g1), lab.ns(h2), h2.ip, { seconds: 1, port: 5322 });
    assert.ok(vlan.ok && vxlan.ok, `${vlan.error ?? ''} ${vxlan.error ?? ''}`);
    console.log(
      `      iperf3 1 s: VLAN ${(vlan.bitsPerSecond / 1e6).toFixed(0)} Mbit/s, VXLAN ${(vxlan.bitsPerSecond / 1e6).toFixed(0)} Mbit/s`,
    );
  });

  it('the two networks stay apart', async () => {
    const [x, y] = await Promise.all([pingOnce(lab.ns(a1), h2.ip, 1), pingOnce(lab.ns(g1), b2.ip, 1)]);
    assert.equal(x, false);
    assert.equal(y, false);
  });

  // userspace TSO (the lab's OVS has it): OVS 3.1 drops offloaded segments at a tunnel port
  it('routing mode brings the VXLAN network in reach of the VLAN one: its container loses tx checksum offload, routed TCP works', async () => {
    const txChecksum = async (x: Ctr) =>
      /^tx-checksumming: (on|off)/m.exec((await run('ethtool', ['-k', 'eth0'], { netns: lab.ns(x) })).stdout)?.[1];
    assert.equal(await txChecksum(a1), 'on', 'bridge mode: a VLAN container keeps its offload');
    assert.equal(await txChecksum(g1), 'off');
    lab.writeFabric({ ...sc, global: { fwdMode: 'routing', arpMode: 'proxy' } });
    await waitFor('a1 to lose tx checksum offload', async () => (await txChecksum(a1)) === 'off', { timeoutMs: 15_000, intervalMs: 100 });
    assert.ok(await pingEventually(lab.ns(a1), h2.ip), 'VLAN (host1) routed to VXLAN (host2)');
    const routed = await tcpTransfer(lab.ns(a1), lab.ns(h2), h2.ip, { seconds: 1, port: 5323 });
    assert.ok(routed.ok, routed.error);
  });
});
