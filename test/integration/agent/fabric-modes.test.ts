/**
 * The modes the packet tracer proves, on the lab's real OVS with real traffic: the gateway address
 * answers ping; fwdMode routing routes between a tenant's networks across hosts (and not into
 * another tenant); ARP flood mode still connects containers across hosts.
 */
import { strict as assert } from 'node:assert';
import { run } from '../../../lib/exec';
import { startCapture } from '../../support/capture';
import { tcpTransfer } from '../../support/traffic';
import { ctr, scenario } from './scenario';
import { AgentLab, fabricLabHooks, pingOnce, Scenario } from './support';

async function pingEventually(netns: string, ip: string, attempts = 8): Promise<boolean> {
  for (let i = 0; i < attempts; i++) if (await pingOnce(netns, ip)) return true;
  return false;
}

/** ARP requests seen on the underlay's data bridge while `action` runs (tcpdump, bounded). */
async function arpOnUnderlay(lab: AgentLab, filter: string, action: () => Promise<unknown>): Promise<string> {
  const cap = await startCapture(lab.plan.underlayNetns, ['-l', '-n', '-e', '-i', 'br-data', filter], { maxSeconds: 6 });
  await action();
  return cap.output;
}

function withModes(encap: 'vlan' | 'vxlan', global: NonNullable<Scenario['global']>, names: string[]): Scenario {
  const sc = scenario(encap);
  return { ...sc, global, containers: sc.containers.filter((c) => names.includes(c.name)) };
}

describe('netplugin modes on real OVS: gateway, routing, ARP flood', function () {
  this.timeout(90_000);

  describe('fwdMode routing, VXLAN', function () {
    const sc = withModes('vxlan', { fwdMode: 'routing', arpMode: 'proxy' }, ['a1', 'b2', 'r2', 'x1']);
    const lab = fabricLabHooks(sc, 90_000);

    it('answers ping to the network gateway', async () => {
      assert.ok(await pingEventually(lab.ns(ctr(sc, 'a1')), '10.50.1.254'), 'a1 -> its gateway');
      assert.ok(await pingEventually(lab.ns(ctr(sc, 'r2')), '10.50.2.254'), 'r2 -> its gateway');
    });

    it("routes between a tenant's networks across hosts (ping and TCP)", async () => {
      assert.ok(await pingEventually(lab.ns(ctr(sc, 'a1')), '10.50.2.2'), 't1 blue (host1) -> t1 red (host2)');
      const tcp = await tcpTransfer(lab.ns(ctr(sc, 'a1')), lab.ns(ctr(sc, 'r2')), '10.50.2.2');
      assert.ok(tcp.ok, `routed TCP: ${tcp.error ?? ''}`);
      assert.ok(await pingEventually(lab.ns(ctr(sc, 'b2')), '10.50.1.1'), 'same network still bridged');
    });

    it('answers ARP on the switch: no ARP request crosses the underlay (proxy mode)', async () => {
      const seen = await arpOnUnderlay(lab, 'udp port 4789', async () => {
        await run('ip', ['neigh', 'flush', 'all'], { netns: lab.ns(ctr(sc, 'a1')) });
        assert.ok(await pingEventually(lab.ns(ctr(sc, 'a1')), '10.50.1.2'));
      });
      assert.doesNotMatch(seen, /Request who-has/, 'no ARP inside the VXLAN traffic');
      assert.match(seen, /ICMP echo request/, 'the capture did see the tunnelled ping');
    });

    it('does not route into another tenant', async () => {
      assert.equal(await pingOnce(lab.ns(ctr(sc, 'x1')), '10.50.2.2', 2), false, 't2 has no route to t1 red');
    });
  });

  describe('arpMode flood, VLAN', function () {
    const sc = withModes('vlan', { fwdMode: 'bridge', arpMode: 'flood' }, ['a1', 'b2', 'r2']);
    const lab = fabricLabHooks(sc, 90_000);

    it('connects containers across hosts with flooded ARP, and keeps networks apart in bridge mode', async () => {
      const seen = await arpOnUnderlay(lab, 'vlan and arp', async () => {
        await run('ip', ['neigh', 'flush', 'all'], { netns: lab.ns(ctr(sc, 'a1')) });
        assert.ok(await pingEventually(lab.ns(ctr(sc, 'a1')), '10.50.1.2'), 'a1 -> b2 across hosts');
      });
      assert.match(
        seen,
        /vlan 101.*ARP.*Request who-has 10\.50\.1\.2/,
        `the ARP request was flooded over the uplink, tagged; saw: ${seen.slice(0, 600)}`,
      );
      const tcp = await tcpTransfer(lab.ns(ctr(sc, 'a1')), lab.ns(ctr(sc, 'b2')), '10.50.1.2');
      assert.ok(tcp.ok, `TCP: ${tcp.error ?? ''}`);
      assert.equal(await pingOnce(lab.ns(ctr(sc, 'a1')), '10.50.2.2', 2), false, 'no routing between networks in bridge mode');
    });
  });
});
