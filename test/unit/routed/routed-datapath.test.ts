/**
 * The routed data path's pure parts: the plumbing scripts (container /32 + link-local gateway,
 * host end's MAC, sysctls and route proto 81), the host-route plan of a restart's re-check, the
 * QoS plan (tbf both ways through an ifb, DSCP table) and what the routed side derives from the
 * desired state (policy of the recorded routed endpoints only, every tenant's routed subnets).
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import {
  endpointRouteArgs,
  hostSysctls,
  routedContainerScript,
  routedHostScript,
  ROUTED_GATEWAY,
  ROUTED_HOST_MAC,
} from '../../../netplugin/plumbing/routed-veth';
import { parseEndpointRoutes, planEndpointRoutes } from '../../../netplugin/routed/endpoint-routes';
import { burstBytes, ifbOf, renderDscpTable, shapeCommands, staleIfbCommands, unshapeCommands } from '../../../netplugin/routed/qos-plan';
import { desiredEndpointRoutes, routedDesired } from '../../../netplugin/routed/routed-desired';
import { parseHostState } from '../../../netplugin/state/host-state';

describe('routed data path (pure)', () => {
  it('the container gets its /32, a permanent neighbour for the gateway and the default route on-link', () => {
    assert.equal(
      routedContainerScript({ ifName: 'eth0', ip: '10.60.0.2' }),
      [
        'addr add 10.60.0.2/32 dev eth0',
        `neigh replace ${ROUTED_GATEWAY} lladdr ${ROUTED_HOST_MAC} dev eth0 nud permanent`,
        'route add default via 169.254.1.1 dev eth0 onlink',
        '',
      ].join('\n'),
    );
    assert.match(routedContainerScript({ ifName: 'eth0', ip: '10.60.0.2', mtu: 1500 }), /^link set eth0 mtu 1500\n/);
    assert.throws(
      () => routedContainerScript({ ifName: 'eth0', ip: '10.60.0.256' }),
      (e: unknown) => e instanceof NetloomError && e.field === 'ip',
    );
    assert.throws(
      () => routedContainerScript({ ifName: 'eth0;reboot', ip: '10.60.0.2' }),
      (e: unknown) => e instanceof NetloomError && e.field === 'ifName',
    );
  });

  it('the host end: fixed MAC, up, route proto 81 scope link; proxy ARP at once and forwarding', () => {
    assert.equal(
      routedHostScript({ hostIf: 'nlabc', ip: '10.60.0.2' }),
      `link set nlabc address ${ROUTED_HOST_MAC} up\nroute replace 10.60.0.2/32 dev nlabc proto 81 scope link\n`,
    );
    assert.deepEqual(endpointRouteArgs('nlabc', '10.60.0.2'), ['10.60.0.2/32', 'dev', 'nlabc', 'proto', '81', 'scope', 'link']);
    assert.deepEqual(hostSysctls('nl.a'), [
      'net.ipv4.conf.nl/a.proxy_arp=1',
      'net.ipv4.neigh.nl/a.proxy_delay=0',
      'net.ipv4.conf.nl/a.forwarding=1',
      'net.ipv4.ip_forward=1',
    ]);
    assert.throws(
      () => hostSysctls('a b'),
      (e: unknown) => e instanceof NetloomError && e.field === 'hostIf',
    );
  });

  it("a restart's re-check puts back missing or misrouted routes and removes only stale ones", () => {
    const plan = planEndpointRoutes(
      [
        { ip: '10.60.0.2', hostIf: 'nla' },
        { ip: '10.60.0.3', hostIf: 'nlb' },
        { ip: '10.60.0.4', hostIf: 'nlc' },
      ],
      [
        { ip: '10.60.0.2', hostIf: 'nla' },
        { ip: '10.60.0.4', hostIf: 'nlx' },
        { ip: '10.60.0.9', hostIf: 'nlz' },
      ],
    );
    assert.deepEqual(plan, {
      put: [
        { ip: '10.60.0.3', hostIf: 'nlb' },
        { ip: '10.60.0.4', hostIf: 'nlc' },
      ],
      remove: [{ ip: '10.60.0.9', hostIf: 'nlz' }],
    });
    assert.deepEqual(planEndpointRoutes([{ ip: '10.60.0.2', hostIf: 'nla' }], [{ ip: '10.60.0.2', hostIf: 'nla' }]), {
      put: [],
      remove: [],
    });
    assert.deepEqual(
      parseEndpointRoutes(
        '[{"dst":"10.60.0.2","dev":"nla","protocol":"81","scope":"link"},{"dst":"10.61.0.0/24","dev":"x"},{"dst":"10.60.0.3/32","dev":"nlb"}]',
      ),
      [
        { ip: '10.60.0.2', hostIf: 'nla' },
        { ip: '10.60.0.3', hostIf: 'nlb' },
      ],
    );
    assert.deepEqual(parseEndpointRoutes(''), []);
    assert.deepEqual(
      desiredEndpointRoutes([
        { endpointId: 'b', hostIf: 'nlb', ip: '10.60.0.3', routed: true },
        { endpointId: 'o', hostIf: 'nlo', ip: '10.1.0.3' },
        { endpointId: 'a', hostIf: 'nla', ip: '10.60.0.2', routed: true },
      ]),
      [
        { ip: '10.60.0.2', hostIf: 'nla' },
        { ip: '10.60.0.3', hostIf: 'nlb' },
      ],
    );
  });

  it('QoS: tbf on the host end (to the container) and on its ifb (from it), DSCP in a prerouting table', () => {
    const q = { endpoint: 'e1', hostIf: 'nl0123456789a', rateKbps: 10_000, burstKb: 0, dscp: 10 };
    assert.equal(ifbOf(q.hostIf), 'nlb0123456789a');
    assert.equal(burstBytes(q), 16 * 1024, '10 ms of 10 Mbit/s is under the 16 KiB floor');
    assert.equal(burstBytes({ rateKbps: 1_000_000, burstKb: 0 }), 1_250_000);
    assert.equal(burstBytes({ rateKbps: 1000, burstKb: 64 }), 65536);
    const cmds = shapeCommands(q).map((c) => c.join(' '));
    assert.deepEqual(cmds, [
      'tc qdisc replace dev nl0123456789a root tbf rate 10000kbit burst 16384 latency 50ms',
      'ip link set nlb0123456789a up',
      'tc qdisc replace dev nlb0123456789a root tbf rate 10000kbit burst 16384 latency 50ms',
      'tc qdisc replace dev nl0123456789a handle ffff: ingress',
      'tc filter replace dev nl0123456789a parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev nlb0123456789a',
    ]);
    assert.deepEqual(shapeCommands({ ...q, rateKbps: 0 }), [], 'DSCP only: not shaped');
    assert.deepEqual(
      unshapeCommands(q.hostIf).map((c) => c.join(' ')),
      ['tc qdisc del dev nl0123456789a root', 'tc qdisc del dev nl0123456789a ingress', 'ip link del nlb0123456789a'],
    );
    assert.equal(renderDscpTable([{ ...q, dscp: 0 }]), '');
    const t = renderDscpTable([q, { ...q, endpoint: 'e0', hostIf: 'nl00', dscp: 46 }]);
    assert.match(
      t,
      /type filter hook prerouting priority mangle; policy accept;\n\t\tiifname "nl00" ip dscp set 46\n\t\tiifname "nl0123456789a" ip dscp set 10\n/,
    );
    assert.throws(
      () => renderDscpTable([{ ...q, dscp: 64 }]),
      (e: unknown) => e instanceof NetloomError && e.field === 'dscp',
    );
  });

  it("a restarted agent's sweep: netloom's ifbs nothing shapes are unshaped (host end still there) or deleted (gone); others left", () => {
    const cmds = staleIfbCommands(['ifb0', 'nlbaaaa', 'nlbbbbb', 'nlbcccc'], new Set(['nlaaaa']), ['nlaaaa', 'nlbbbb']);
    assert.deepEqual(cmds, [...unshapeCommands('nlbbbb'), ['ip', 'link', 'del', 'nlbcccc']]);
    assert.deepEqual(staleIfbCommands(['ifb0', 'ifb1'], new Set(), []), [], 'ifb devices netloom did not make');
  });

  it('policy and QoS go to the recorded routed endpoints of this host, with every routed subnet by tenant', () => {
    const state = parseHostState({
      global: {},
      tenants: [
        { name: 'blue', ctZone: 1, vrfId: 1 },
        { name: 'red', ctZone: 2, vrfId: 2 },
      ],
      networks: [
        { key: 'blue:r', tenant: 'blue', name: 'r', encap: 'bgp', pktTag: 7, networkId: 0x2000007, subnet: '10.60.0.0/16' },
        { key: 'blue:web', tenant: 'blue', name: 'web', encap: 'vxlan', pktTag: 5001, networkId: 5001, subnet: '10.1.0.0/24' },
        { key: 'red:r', tenant: 'red', name: 'r', encap: 'bgp', pktTag: 8, networkId: 0x2000008, subnet: '10.70.0.0/16' },
      ],
      groups: [{ key: 'blue:g', tenant: 'blue', name: 'g', network: 'r', groupId: 1, netProfile: 'gold', policies: ['p'] }],
      policies: [
        {
          key: 'blue:p',
          tenant: 'blue',
          name: 'p',
          rules: [{ ruleId: '1', direction: 'in', priority: 1, action: 'deny', protocol: 'tcp', port: 22 }],
        },
      ],
      profiles: [{ key: 'blue:gold', tenant: 'blue', name: 'gold', bandwidthKbps: 5000, burstKb: 0, dscp: 12 }],
      endpoints: [
        { id: 'r1', network: 'blue:r', group: 'blue:g', host: 'h1', ip: '10.60.0.2', mac: '02:00:00:00:00:01' },
        { id: 'r2', network: 'blue:r', host: 'h1', ip: '10.60.0.3', mac: '02:00:00:00:00:02' },
        { id: 'r3', network: 'blue:r', host: 'h2', ip: '10.60.0.4', mac: '02:00:00:00:00:03' },
        { id: 'w1', network: 'blue:web', host: 'h1', ip: '10.1.0.2', mac: '02:00:00:00:00:04' },
      ],
    });
    const records = [
      { endpointId: 'r1', hostIf: 'nlr1', ip: '10.60.0.2', routed: true },
      { endpointId: 'w1', hostIf: 'nlw1', ip: '10.1.0.2' },
    ];
    const d = routedDesired(state, 'h1', records);
    assert.deepEqual(
      d.policy.endpoints.map((e) => [e.hostIf, e.policy.endpoint, e.policy.ingress.rules.map((r) => r.id)]),
      [['nlr1', 'r1', ['blue:p/1']]],
      'r2 has no record yet, r3 is remote, w1 is on OVS',
    );
    assert.deepEqual(d.policy.tenantSubnets, [
      { tenant: 'blue', subnet: '10.60.0.0/16' },
      { tenant: 'red', subnet: '10.70.0.0/16' },
    ]);
    assert.deepEqual(d.qos, [{ endpoint: 'r1', hostIf: 'nlr1', rateKbps: 5000, burstKb: 0, dscp: 12 }]);
  });
});
