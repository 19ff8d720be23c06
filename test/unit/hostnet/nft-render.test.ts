import { strict as assert } from 'node:assert';
import { desiredHostNet } from '../../../netplugin/hostnet/desired-state';
import { nftScript, renderNftTable } from '../../../netplugin/hostnet/nft-render';
import type { PortMapping } from '../../../netplugin/hostnet/port-mapping';
import { input } from './fixture';

const mapping: PortMapping = {
  endpointId: 'a1',
  tenantVrfId: 1,
  endpointIp: '10.1.1.10',
  hostIp: '',
  hostPort: 8080,
  containerPort: 80,
  protocol: 'tcp',
};

describe('hostnet: nftables table inet netloom', () => {
  const s = desiredHostNet(input(), { addresses: [] }, [
    mapping,
    { ...mapping, hostIp: '192.168.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
  ]);
  const text = renderNftTable(s);
  const chainOf = (name: string): string[] => {
    const m = new RegExp(`\\tchain ${name} \\{\\n([\\s\\S]*?)\\n\\t\\}`).exec(text);
    assert.ok(m, `chain ${name} rendered`);
    return m[1]!.split('\n').map((l) => l.trim());
  };

  it('zones the original direction by input interface, before conntrack (priority raw)', () => {
    assert.deepEqual(chainOf('raw-prerouting'), [
      'type filter hook prerouting priority raw; policy accept;',
      'iifname "nlgw1" ct original zone set 101',
      'iifname "nlgw2" ct original zone set 102',
    ]);
  });

  it("marks the tenant's new connections and routes what goes back to the tenant by the mark (prerouting and output)", () => {
    const back = [
      'ct direction reply ct mark & 0x00030000 == 0x00010000 meta mark set ct mark',
      'ct direction original ct mark & 0x00030000 == 0x00030000 meta mark set ct mark',
    ];
    assert.deepEqual(chainOf('mangle-prerouting'), [
      'type filter hook prerouting priority mangle; policy accept;',
      'iifname "nlgw1" ct state new ct mark set 0x00010001',
      'iifname "nlgw2" ct state new ct mark set 0x00010002',
      ...back,
    ]);
    assert.deepEqual(chainOf('mangle-output'), ['type route hook output priority mangle; policy accept;', ...back]);
  });

  it('marks what a tenant sends to the host itself after the routing decision (input), so the host answers into its table', () => {
    assert.deepEqual(chainOf('mangle-input'), [
      'type filter hook input priority mangle; policy accept;',
      'iifname "nlgw1" meta mark set 0x00010001',
      'iifname "nlgw2" meta mark set 0x00010002',
    ]);
  });

  it('masquerades only subnets with nat on, leaving by an interface that is not a gateway port', () => {
    assert.deepEqual(chainOf('nat-postrouting'), [
      'type nat hook postrouting priority srcnat; policy accept;',
      'iifname "nlgw1" ip saddr 10.1.1.0/24 oifname != "nlgw*" masquerade',
      'iifname "nlgw2" ip saddr 10.1.1.0/24 oifname != "nlgw*" masquerade',
    ]);
  });

  it('publishes ports as DNAT with the tenant mark and the DNAT bit, from outside and from the host itself', () => {
    const dnat = [
      'ip daddr 192.168.0.1 udp dport 5353 meta mark set 0x00030001 ct mark set 0x00030001 dnat ip to 10.1.1.10:53',
      'fib daddr type local tcp dport 8080 meta mark set 0x00030001 ct mark set 0x00030001 dnat ip to 10.1.1.10:80',
    ];
    assert.deepEqual(chainOf('nat-prerouting'), ['type nat hook prerouting priority dstnat; policy accept;', ...dnat]);
    assert.deepEqual(chainOf('nat-output'), ['type nat hook output priority -100; policy accept;', ...dnat]);
  });

  it('keeps tenants apart in the kernel: gateway port to gateway port only through a published port', () => {
    assert.deepEqual(chainOf('forward').slice(1), [
      'iifname "nlgw*" oifname "nlgw*" ct status dnat accept',
      'iifname "nlgw*" oifname "nlgw*" drop',
    ]);
    assert.deepEqual(chainOf('nat-input'), ['type nat hook input priority 100; policy accept;']);
  });

  it('is the same text for the same state, nothing when nothing is desired, and drops mappings of a tenant without a gateway', () => {
    assert.equal(
      renderNftTable(desiredHostNet(input(), { addresses: [] }, [mapping])),
      renderNftTable(desiredHostNet(input(), { addresses: [] }, [mapping])),
    );
    assert.equal(renderNftTable({ gateways: [], portMappings: [] }), '');
    assert.equal(renderNftTable({ gateways: [], portMappings: [mapping] }), '', 'no gateway for vrf 1: no rule that routes nowhere');
  });

  it('the script deletes and re-adds the table in one transaction (and only deletes it when nothing is desired)', () => {
    assert.equal(nftScript(text), `table inet netloom\ndelete table inet netloom\n${text}`);
    assert.equal(nftScript(''), 'table inet netloom\ndelete table inet netloom\n');
  });
});
