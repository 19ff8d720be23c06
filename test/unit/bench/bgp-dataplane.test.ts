import { strict as assert } from 'node:assert';
import {
  addKernelRoutedRatios,
  BGP_PATHS,
  formatKernelRouted,
  isBgpPath,
  kernelRoutedRatios,
  type KernelRoutedRatios,
} from '../../../bench/support/bgp-dataplane-report';
import { BGP_CONTAINERS, bgpFabricState, hostBlock, kernelRoutedCommands, NETLOOM_BGP_HOSTS } from '../../../bench/support/bgp-paths';
import { ALL_PATHS, parseDataplaneArgs } from '../../../bench/support/dataplane-report';
import { isRoutedNetwork } from '../../../lib/bgp/settings';
import { parseHostState } from '../../../netplugin/state/host-state';
import ipaddr from 'ipaddr.js';

const HOSTS = [
  { name: 'host1', netns: 'tdbgp-host1', dataIp: '10.213.5.1', routedIp: '10.213.5.101' },
  { name: 'host2', netns: 'tdbgp-host2', dataIp: '10.213.5.2', routedIp: '10.213.5.102' },
  { name: 'host3', netns: 'tdbgp-host3', dataIp: '10.213.5.3', routedIp: '10.213.5.103' },
  { name: 'host4', netns: 'tdbgp-host4', dataIp: '10.213.5.4', routedIp: '10.213.5.104' },
  { name: 'host5', netns: 'tdbgp-host5', dataIp: '10.213.5.5', routedIp: '10.213.5.105' },
  { name: 'host6', netns: 'tdbgp-host6', dataIp: '10.213.5.6', routedIp: '10.213.5.106' },
];
const NETLOOM_HOSTS = HOSTS.filter((h) => (NETLOOM_BGP_HOSTS as readonly string[]).includes(h.name));
const fig = (bw: number, lat: number) => ({ qperfTcpBwGbps: bw, qperfTcpLatUs: lat });

describe('dataplane benchmark: BGP mode paths', () => {
  it('the BGP paths are dataplane paths that --paths selects', () => {
    for (const p of BGP_PATHS) assert.ok((ALL_PATHS as readonly string[]).includes(p));
    assert.deepEqual(parseDataplaneArgs(['--paths', 'kernel-routed,netloom-bgp']).paths, ['netloom-bgp', 'kernel-routed']);
    assert.ok(isBgpPath('netloom-bgp-policy'));
    assert.ok(!isBgpPath('netloom-vlan-policy'));
  });

  it('rates a path against kernel-routed: bandwidth and latency as path / reference, two decimals', () => {
    assert.deepEqual(kernelRoutedRatios(fig(9, 22), fig(10, 20)), { tcpBw: 0.9, tcpLat: 1.1 });
    assert.deepEqual(kernelRoutedRatios(fig(12.08, 22.6), fig(7.208, 18.1)), { tcpBw: 1.68, tcpLat: 1.25 });
    assert.equal(kernelRoutedRatios(fig(9, 22), undefined), null);
    assert.equal(kernelRoutedRatios(fig(9, 22), fig(0, 20)), null, 'a reference that moved nothing rates nothing');
  });

  it('sets vsKernelRouted on each netloom-bgp path and checks its own goal (0.9x/1.1x; with policy 0.85x of the bandwidth)', () => {
    const figs: Record<string, ReturnType<typeof fig> & { vsKernelRouted?: KernelRoutedRatios | null }> = {
      'netloom-bgp': fig(9.1, 21),
      'netloom-bgp-policy': fig(8.6, 22.5),
      'kernel-routed': fig(10, 20),
      'netloom-vlan': fig(1, 100),
    };
    const check = addKernelRoutedRatios(figs);
    assert.deepEqual(figs['netloom-bgp']?.vsKernelRouted, { tcpBw: 0.91, tcpLat: 1.05 });
    assert.deepEqual(figs['netloom-bgp-policy']?.vsKernelRouted, { tcpBw: 0.86, tcpLat: 1.13 });
    assert.equal(figs['netloom-vlan']?.vsKernelRouted, undefined);
    assert.equal(check['netloom-bgp']?.met, true);
    assert.equal(check['netloom-bgp-policy']?.met, true, 'its goal is bandwidth only');
    assert.deepEqual(check['netloom-bgp-policy']?.goal, { tcpBw: 0.85 });
    const table = formatKernelRouted(check);
    assert.match(table, /\| netloom-bgp \| 0\.91x \(>= 0\.9x\) \| 1\.05x \(<= 1\.1x\) \| yes \|/);
    assert.match(table, /\| netloom-bgp-policy \| 0\.86x \(>= 0\.85x\) \| 1\.13x \(no goal\) \| yes \|/);
    // under the bandwidth goal it is missed whatever the latency
    figs['netloom-bgp-policy'] = fig(8.4, 20);
    assert.equal(addKernelRoutedRatios(figs)['netloom-bgp-policy']?.met, false);
    // netloom-bgp misses on latency alone
    figs['netloom-bgp'] = fig(10, 22.4);
    assert.equal(addKernelRoutedRatios(figs)['netloom-bgp']?.met, false, 'latency 1.12x is over 1.1x');
  });

  it('without kernel-routed the ratios are null and there is no table', () => {
    const figs: Record<string, ReturnType<typeof fig> & { vsKernelRouted?: KernelRoutedRatios | null }> = { 'netloom-bgp': fig(9, 20) };
    const check = addKernelRoutedRatios(figs);
    assert.equal(figs['netloom-bgp']?.vsKernelRouted, null);
    assert.equal(check['netloom-bgp']?.met, null);
    assert.equal(formatKernelRouted(check), '');
  });

  it('writes a fabric the agent accepts: a routed bgp network, a block per host holding its containers, BGP towards the tor; the policy pair on hosts of its own', () => {
    const st = parseHostState(bgpFabricState(NETLOOM_HOSTS, 'host2', '10.213.5.254'));
    const net = st.networks[0]!;
    assert.equal(st.networks.length, 1);
    assert.equal(net.encap, 'bgp');
    assert.ok(isRoutedNetwork(net.encap, st.global.fwdMode, true));
    assert.deepEqual(
      st.blocks?.map((b) => [b.host, b.cidr, b.vtepIp]),
      [
        ['host1', '10.61.0.0/26', '10.213.5.1'],
        ['host2', '10.61.0.64/26', '10.213.5.2'],
        ['host5', '10.61.0.128/26', '10.213.5.5'],
        ['host6', '10.61.0.192/26', '10.213.5.6'],
      ],
    );
    for (const c of BGP_CONTAINERS) {
      const block = ipaddr.parseCIDR(hostBlock(c.host));
      assert.ok(ipaddr.IPv4.parse(c.ip).match(block), `${c.name} is in its host's block (no /32 announced)`);
    }
    assert.deepEqual(
      [st.bgp?.hostname, st.bgp?.as, st.bgp?.neighbor, st.bgp?.neighborAs, st.bgp?.holdTime],
      ['host2', 65000, '10.213.5.254', 65000, 9],
    );
    assert.deepEqual(
      st.policies.map((p) => p.rules.length),
      [100],
    );
    assert.deepEqual(
      st.endpoints.filter((e) => e.group !== '').map((e) => e.host),
      ['host5', 'host6'],
    );
  });

  it('kernel-routed: a /32 behind a permanent link-local gateway in each namespace, static /32 routes on host3 and host4 through their routed uplinks (no netloom there)', () => {
    const cmds = kernelRoutedCommands(HOSTS).map(([ns, argv]) => `${ns}: ${argv.join(' ')}`);
    assert.deepEqual(cmds, [
      'dpkr1: ip addr add 10.64.0.1/32 dev eth0',
      'dpkr1: ip link set eth0 up',
      'dpkr1: ip neigh replace 169.254.1.1 lladdr ee:ee:ee:ee:ee:ee dev eth0 nud permanent',
      'dpkr1: ip route add 169.254.1.1 dev eth0 scope link',
      'dpkr1: ip route add default via 169.254.1.1 dev eth0',
      'tdbgp-host3: sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.krh1.proxy_arp=1',
      'tdbgp-host3: ip link set krh1 address ee:ee:ee:ee:ee:ee up',
      'tdbgp-host3: ip route replace 10.64.0.1/32 dev krh1 scope link',
      'tdbgp-host3: ip route replace 10.64.0.2/32 via 10.213.5.104 dev eth2 onlink',
      'dpkr2: ip addr add 10.64.0.2/32 dev eth0',
      'dpkr2: ip link set eth0 up',
      'dpkr2: ip neigh replace 169.254.1.1 lladdr ee:ee:ee:ee:ee:ee dev eth0 nud permanent',
      'dpkr2: ip route add 169.254.1.1 dev eth0 scope link',
      'dpkr2: ip route add default via 169.254.1.1 dev eth0',
      'tdbgp-host4: sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.krh2.proxy_arp=1',
      'tdbgp-host4: ip link set krh2 address ee:ee:ee:ee:ee:ee up',
      'tdbgp-host4: ip route replace 10.64.0.2/32 dev krh2 scope link',
      'tdbgp-host4: ip route replace 10.64.0.1/32 via 10.213.5.103 dev eth2 onlink',
    ]);
    assert.throws(() => kernelRoutedCommands(HOSTS.slice(0, 3)), /no lab host/);
  });
});
