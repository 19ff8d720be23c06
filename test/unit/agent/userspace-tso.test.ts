import { strict as assert } from 'node:assert';
import { mayTunnel, parseTapVnetHdr, tsoSettingToFix, txChecksumOffFor, userspaceTsoActive } from '../../../netplugin/agent/userspace-tso';
import type { HostState, Network } from '../../../netplugin/state/host-state';
import type { CommandRunner } from '../../../lib/exec';

// `ip -d link show dev br-int` of a netdev bridge's local port, as OVS 3.1 opens it
const tap = (vnet: 'on' | 'off') =>
  `7: br-int: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UNKNOWN mode DEFAULT group default qlen 1000\n` +
  `    link/ether 4a:1f:2e:3d:4c:5b brd ff:ff:ff:ff:ff:ff promiscuity 1 allmulti 0 minmtu 68 maxmtu 65521 \n` +
  `    tun type tap pi off vnet_hdr ${vnet} persist on addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536\n`;

describe('userspace TSO (agent/userspace-tso)', () => {
  it('tsoSettingToFix writes the key only when it is not already true', () => {
    assert.deepEqual(tsoSettingToFix({}), { 'userspace-tso-enable': 'true' });
    assert.deepEqual(tsoSettingToFix({ 'userspace-tso-enable': 'false', other: 'x' }), { 'userspace-tso-enable': 'true' });
    assert.deepEqual(tsoSettingToFix({ 'userspace-tso-enable': 'true' }), {});
  });

  it('parseTapVnetHdr reads the virtio-net header flag of a tap, undefined for anything else', () => {
    assert.equal(parseTapVnetHdr(tap('on')), true);
    assert.equal(parseTapVnetHdr(tap('off')), false);
    assert.equal(parseTapVnetHdr('3: eth0@if4: <UP> mtu 1500\n    link/ether 02:00:00:00:00:01\n    veth addrgenmode eui64\n'), undefined);
    assert.equal(parseTapVnetHdr(''), undefined);
  });

  it('userspaceTsoActive probes the bridge with ip -d link; a missing device is false', async () => {
    const seen: string[] = [];
    const runner =
      (stdout: string, code = 0): CommandRunner =>
      async (cmd, args) => {
        seen.push([cmd, ...args].join(' '));
        return { code, stdout, stderr: code ? 'Device "br-int" does not exist.' : '' };
      };
    assert.equal(await userspaceTsoActive('br-int', runner(tap('on'))), true);
    assert.deepEqual(seen, ['ip -d link show dev br-int']);
    assert.equal(await userspaceTsoActive('br-int', runner(tap('off'))), false);
    assert.equal(await userspaceTsoActive('br-int', runner('', 1)), false);
  });

  it('mayTunnel: VXLAN and unknown networks may, VLAN ones only when routed in a tenant with a VXLAN network', () => {
    const vl = { tenant: 't1', encap: 'vlan' as const };
    const nets = (encaps: Array<[string, 'vlan' | 'vxlan']>) => encaps.map(([tenant, encap]) => ({ tenant, encap }) as Network);
    const st = (fwdMode: 'bridge' | 'routing', networks: Network[]) => ({ global: { fwdMode } as HostState['global'], networks });
    assert.equal(mayTunnel(st('bridge', []), { tenant: 't1', encap: 'vxlan' }), true);
    assert.equal(mayTunnel(st('bridge', []), undefined), true, 'a network not known yet');
    assert.equal(mayTunnel(undefined, vl), true, 'no state yet');
    assert.equal(mayTunnel(st('bridge', nets([['t1', 'vxlan']])), vl), false, 'bridge mode: networks never meet');
    assert.equal(mayTunnel(st('routing', nets([['t1', 'vlan']])), vl), false);
    assert.equal(mayTunnel(st('routing', nets([['t2', 'vxlan']])), vl), false, "another tenant's VXLAN is never routed to");
    assert.equal(
      mayTunnel(
        st(
          'routing',
          nets([
            ['t1', 'vlan'],
            ['t1', 'vxlan'],
          ]),
        ),
        vl,
      ),
      true,
      'routed to or answered from a VXLAN network',
    );
  });

  it('txChecksumOffFor: kept on only where the switch has TSO and no tunnel is in reach, unless forced', () => {
    const p = { txChecksumOff: true, forced: false, tsoActive: true };
    assert.equal(txChecksumOffFor(p, false), false);
    assert.equal(txChecksumOffFor(p, true), true, 'offloaded segments are dropped at the tunnel port');
    assert.equal(txChecksumOffFor({ ...p, tsoActive: false }, false), true, 'the running switch has no TSO');
    assert.equal(txChecksumOffFor({ ...p, forced: true }, false), true, '--tx-checksum-off on');
    assert.equal(txChecksumOffFor({ ...p, txChecksumOff: false }, true), false, 'the kernel datapath needs no workaround');
  });
});
