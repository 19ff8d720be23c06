import assert from 'node:assert/strict';
import { isNetloomError } from '../../../lib/errors';
import { ANY_ADDRESS, OPEN, type DirectionPolicy, type EndpointPolicy, type PolicyRule } from '../../../lib/policy/model';
import { routedPolicyModel, type RoutedEndpoint, type RoutedPolicyInput } from '../../../netplugin/routed/policy-model';
import {
  GENERATION_SHIFT,
  MARK_DENIED,
  MAX_GENERATION,
  generationComment,
  nextGeneration,
  parseGenerationComment,
  renderRoutedPolicy,
} from '../../../netplugin/routed/policy-nft';
import { interpret, NEW, type CtView, type RoutedPacket } from './policy-interpreter';

const WEB = { include: ['10.1.0.10/32', '10.1.0.11/32'], exclude: [] };
const rule = (id: string, fields: Partial<PolicyRule>): PolicyRule => ({
  id,
  peers: ANY_ADDRESS,
  services: [],
  action: 'allow',
  priority: 1,
  ...fields,
});
const dir = (rules: PolicyRule[], isolated = false): DirectionPolicy => ({ isolated, rules });
function ep(name: string, ip: string, p: { ingress?: DirectionPolicy; egress?: DirectionPolicy; tenant?: string } = {}): RoutedEndpoint {
  const policy: EndpointPolicy = { endpoint: name, ip, tenant: p.tenant ?? 't', ingress: p.ingress ?? OPEN, egress: p.egress ?? OPEN };
  return { hostIf: `nr-${name}`, policy };
}
const SUBNETS = [
  { tenant: 't', subnet: '10.1.0.0/24' },
  { tenant: 'u', subnet: '10.2.0.0/24' },
];
const G = { generation: 3, digest: '0000abcd' };

/** The lines of one chain or set block of the text (trimmed). */
function block(text: string, head: string): string[] {
  const m = new RegExp(`\\t${head} \\{\\n([\\s\\S]*?)\\n\\t\\}`).exec(text);
  assert.ok(m, `${head} rendered`);
  return m[1]!.split('\n').map((l) => l.trim());
}

describe('routed policy: the nftables table', () => {
  // db: allow tcp/5432 and tcp/80 from web at 5, deny everything at 1; two db endpoints share it
  const allow5432 = rule('t:pdb/a', { peers: WEB, services: [{ protocol: 'tcp', ports: [{ from: 5432, to: 5432 }] }], priority: 5 });
  const allow80 = rule('t:pdb/b', { peers: WEB, services: [{ protocol: 'tcp', ports: [{ from: 80, to: 80 }] }], priority: 5 });
  const denyAll = rule('t:pdb/c', { action: 'deny' });
  const dbIn = dir([allow5432, allow80, denyAll]);
  const input: RoutedPolicyInput = {
    endpoints: [ep('d2', '10.1.0.21', { ingress: dbIn }), ep('d1', '10.1.0.20', { ingress: dbIn })],
    tenantSubnets: SUBNETS,
  };
  const text = renderRoutedPolicy(routedPolicyModel(input), G);

  it('one table with the generation in its comment; endpoints, their own sources, every tenant apart', () => {
    assert.ok(text.startsWith('table inet netloom_policy {\n\tcomment "netloom routed policy: generation 3 digest 0000abcd"\n'));
    assert.deepEqual(block(text, 'set endpoints'), ['type ifname', 'elements = { "nr-d1", "nr-d2" }']);
    assert.deepEqual(block(text, 'set sources'), ['type ifname . ipv4_addr', 'elements = { "nr-d1" . 10.1.0.20, "nr-d2" . 10.1.0.21 }']);
    assert.deepEqual(block(text, 'set routed'), ['type ipv4_addr', 'flags interval', 'elements = { 10.1.0.0/24, 10.2.0.0/24 }']);
    assert.deepEqual(block(text, 'set tenant_0'), ['type ipv4_addr', 'flags interval', 'elements = { 10.1.0.0/24 }']);
    assert.deepEqual(block(text, 'set tenant_1'), ['type ipv4_addr', 'flags interval', 'elements = { 10.2.0.0/24 }']);
  });

  it('the stateful frame: admitted connections first (an endpoint only with its own address), then only routed endpoints, spoof and invalid dropped, replies pass, DENIED replies dropped, commit keeps the host network bits', () => {
    assert.deepEqual(block(text, 'chain forward'), [
      'type filter hook forward priority filter; policy accept;',
      'ct state established,related ct mark and 0x7ffc0000 == 0x000c0000 iifname . ip saddr @sources accept comment "admitted, from an endpoint with its own address"',
      'ct state established,related ct mark and 0x7ffc0000 == 0x000c0000 iifname != @endpoints accept comment "admitted, to an endpoint"',
      'iifname @endpoints goto routed',
      'oifname @endpoints goto routed',
    ]);
    assert.deepEqual(block(text, 'chain routed'), [
      'meta nfproto ipv6 drop',
      'iifname @endpoints iifname . ip saddr != @sources drop',
      'ct state invalid drop',
      'ct mark and 0x7ffc0000 == 0x00000000 tcp flags & (syn | ack) != syn iifname @deny_capable reject with tcp reset comment "a connection no table of this host admitted"',
      'ct mark and 0x7ffc0000 == 0x00000000 tcp flags & (syn | ack) != syn oifname @deny_capable reject with tcp reset comment "a connection no table of this host admitted"',
      'ct direction reply ct mark and 0x80000000 == 0x80000000 drop',
      'ct state established ct direction reply accept',
      'ct state related accept',
      'iifname vmap @egress',
      'oifname vmap @ingress',
      'ct mark set ct mark and 0x0003ffff or 0x000c0000 accept',
    ]);
    assert.deepEqual(block(text, 'chain deny'), ['ct state established ct mark set ct mark or 0x80000000 drop', 'drop']);
  });

  it('endpoints with one policy share its chain; rules of one precedence and peers are one line, their ports one set; precedence order', () => {
    assert.deepEqual(block(text, 'map ingress'), [
      'type ifname : verdict',
      'elements = { "nr-d1" : jump ingress_0, "nr-d2" : jump ingress_0 }',
    ]);
    assert.deepEqual(block(text, 'map egress'), [
      'type ifname : verdict',
      'elements = { "nr-d1" : jump egress_0, "nr-d2" : jump egress_0 }',
    ]);
    assert.deepEqual(block(text, 'set peers_0'), ['type ipv4_addr', 'flags interval', 'elements = { 10.1.0.10/32, 10.1.0.11/32 }']);
    assert.deepEqual(block(text, 'chain ingress_0'), [
      'ip saddr @routed ip saddr != @tenant_0 goto deny comment "another tenant"',
      'ip saddr @peers_0 tcp dport { 80, 5432 } return comment "t:pdb/a t:pdb/b"',
      'goto deny comment "t:pdb/c"',
    ]);
    assert.deepEqual(block(text, 'chain egress_0'), ['ip daddr @routed ip daddr != @tenant_0 goto deny comment "another tenant"']);
  });

  it('deny before allow at equal priority; protocols by name and number; ports without a protocol; isolation; a peer set with no address is no line', () => {
    const out = dir(
      [
        rule('t:p/allow', { priority: 7, services: [{ protocol: 17, ports: [{ from: 53, to: 53 }] }] }),
        rule('t:p/deny', { priority: 7, action: 'deny', services: [{ protocol: 'udp' }] }),
        rule('t:p/gre', {
          priority: 9,
          peers: { include: ['10.1.0.0/24'], exclude: ['10.1.0.128/25'] },
          services: [{ protocol: 47 }, { protocol: 1 }],
        }),
        rule('t:p/ports', {
          priority: 3,
          services: [
            {
              ports: [
                { from: 1000, to: 1999 },
                { from: 2000, to: 2005 },
              ],
            },
          ],
        }),
        rule('t:p/none', { priority: 11, peers: { include: [], exclude: [] } }),
      ],
      true,
    );
    const t = renderRoutedPolicy(routedPolicyModel({ endpoints: [ep('w1', '10.1.0.10', { egress: out })], tenantSubnets: SUBNETS }), G);
    assert.deepEqual(block(t, 'set peers_0'), ['type ipv4_addr', 'flags interval', 'elements = { 10.1.0.0/25 }']);
    assert.deepEqual(block(t, 'chain egress_0'), [
      'ip daddr @routed ip daddr != @tenant_0 goto deny comment "another tenant"',
      'ip daddr @peers_0 meta l4proto icmp return comment "t:p/gre"',
      'ip daddr @peers_0 meta l4proto 47 return comment "t:p/gre"',
      'meta l4proto udp goto deny comment "t:p/deny"',
      'meta l4proto { tcp, udp } th dport 1000-2005 return comment "t:p/ports"',
      'udp dport 53 return comment "t:p/allow"',
      'goto deny comment "isolated"',
    ]);
  });

  it('a run of one action across priorities is merged: ports of one protocol in one set, peers for every service in one union set; a line matching everything ends the chain', () => {
    const denyTcp = (i: number) =>
      rule(`t:p/tcp${i}`, {
        action: 'deny',
        priority: 20 - i,
        services: [{ protocol: 'tcp', ports: [{ from: 2000 + 2 * i, to: 2000 + 2 * i }] }],
      });
    const denyFrom = (i: number) =>
      rule(`t:p/src${i}`, { action: 'deny', priority: 15 - i, peers: { include: [`10.9.${i}.0/24`], exclude: [] } });
    const ingress = dir([
      denyTcp(0),
      denyTcp(1),
      denyFrom(0),
      denyTcp(2),
      denyFrom(1),
      rule('t:p/web', { priority: 9, peers: WEB }),
      rule('t:p/late', { action: 'deny', priority: 8, services: [{ protocol: 'udp' }] }),
      rule('t:p/all', { action: 'deny', priority: 1 }),
      rule('t:p/never', { priority: 0, services: [{ protocol: 'icmp' }] }),
    ]);
    const m = routedPolicyModel({ endpoints: [ep('d1', '10.1.0.20', { ingress })], tenantSubnets: SUBNETS });
    const t = renderRoutedPolicy(m, G);
    assert.deepEqual(block(t, 'chain ingress_0'), [
      'ip saddr @routed ip saddr != @tenant_0 goto deny comment "another tenant"',
      'tcp dport { 2000, 2002, 2004 } goto deny comment "t:p/tcp0 t:p/tcp1 t:p/tcp2"',
      'ip saddr @peers_2 goto deny comment "t:p/src0 t:p/src1"',
      'ip saddr @peers_3 return comment "t:p/web"',
      'goto deny comment "t:p/late t:p/all"',
    ]);
    assert.deepEqual(block(t, 'set peers_2'), ['type ipv4_addr', 'flags interval', 'elements = { 10.9.0.0/24, 10.9.1.0/24 }']);
    assert.deepEqual(
      m.peerSets.map((p) => p.name),
      ['peers_2', 'peers_3'],
      "the union's parts are not in the table",
    );
  });

  it('proportional: a rule between 50 local endpoints and 100 peers over 20 ports (20 one-port Contiv rules) is 1 line, 100 set elements, 50 map elements', () => {
    const peers = { include: Array.from({ length: 100 }, (_, i) => `10.1.1.${i + 1}/32`), exclude: [] };
    const rules = Array.from({ length: 20 }, (_, i) =>
      rule(`t:p/r${i}`, {
        peers,
        services: [{ protocol: 'tcp', ports: [{ from: 8000 + 2 * i, to: 8000 + 2 * i }] }],
        action: 'deny',
        priority: 2,
      }),
    );
    const eps = Array.from({ length: 50 }, (_, i) => ep(`e${i}`, `10.1.0.${i + 1}`, { ingress: dir(rules) }));
    const t = renderRoutedPolicy(routedPolicyModel({ endpoints: eps, tenantSubnets: [{ tenant: 't', subnet: '10.1.0.0/16' }] }), G);
    const chain = block(t, 'chain ingress_0');
    assert.equal(chain.length, 2, 'the guard and one line');
    assert.match(chain[1]!, /^ip saddr @peers_0 tcp dport \{ 8000, 8002, .*, 8038 \} goto deny/);
    assert.equal(block(t, 'set peers_0')[2]!.split(',').length, 100);
    assert.equal(block(t, 'map ingress')[1]!.split(', ').length, 50);
    assert.equal((t.match(/\n\tchain /g) ?? []).length, 5, 'forward, routed, deny, one ingress and one egress chain');
  });

  it('no routed endpoint: no table', () => {
    assert.equal(renderRoutedPolicy(routedPolicyModel({ endpoints: [], tenantSubnets: SUBNETS }), G), '');
  });

  it('the generation: kept while the model is the same, the next one when it changes, wrapping to 1; read back from the listing', () => {
    const m1 = routedPolicyModel(input);
    const g1 = nextGeneration(m1, undefined);
    assert.equal(g1.generation, 1);
    assert.deepEqual(nextGeneration(routedPolicyModel(input), g1), g1, 'same model, same generation');
    const m2 = routedPolicyModel({ ...input, endpoints: [input.endpoints[0]!] });
    assert.equal(nextGeneration(m2, g1).generation, 2);
    assert.equal(nextGeneration(m2, { generation: MAX_GENERATION, digest: g1.digest }).generation, 1);
    const listing = `table inet netloom_policy {\n\tcomment "${generationComment({ generation: 77, digest: '89abcdef' })}"\n\tset x {\n`;
    assert.deepEqual(parseGenerationComment(listing), { generation: 77, digest: '89abcdef', stateful: true });
    const stateless = `comment "${generationComment({ generation: 5, digest: '89abcdef' }, false)}"`;
    assert.deepEqual(parseGenerationComment(stateless), { generation: 5, digest: '89abcdef', stateful: false });
    assert.equal(parseGenerationComment('table inet netloom_policy {\n}'), undefined);
    assert.equal(parseGenerationComment('comment "netloom routed policy: generation 9999 digest 89abcdef"'), undefined, 'out of range');
  });

  it('bad input is refused naming the field', () => {
    const bad = (i: RoutedPolicyInput, field: string) =>
      assert.throws(
        () => routedPolicyModel(i),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === field,
        field,
      );
    bad({ endpoints: [{ ...ep('a', '10.1.0.1'), hostIf: 'has space' }], tenantSubnets: [] }, 'hostIf');
    bad({ endpoints: [{ ...ep('a', '10.1.0.1'), hostIf: 'sixteen-chars-xx' }], tenantSubnets: [] }, 'hostIf');
    bad({ endpoints: [ep('a', '10.1.0.1'), { ...ep('b', '10.1.0.2'), hostIf: 'nr-a' }], tenantSubnets: [] }, 'hostIf');
    bad({ endpoints: [ep('a', '10.1.0.300')], tenantSubnets: [] }, 'ip');
    bad({ endpoints: [ep('a', '10.1.0.1/32')], tenantSubnets: [] }, 'ip');
    bad({ endpoints: [ep('a', '10.1.0.1', { tenant: '' })], tenantSubnets: [] }, 'tenant');
    bad({ endpoints: [], tenantSubnets: [{ tenant: 't', subnet: '10.1.0.0/33' }] }, 'subnet');
    bad({ endpoints: [], tenantSubnets: [{ tenant: 't', subnet: '010.1.0.0/24' }] }, 'subnet');
    bad({ endpoints: [], tenantSubnets: [...SUBNETS, { tenant: 'u', subnet: '10.1.0.128/25' }] }, 'subnet');
    bad({ endpoints: [ep('a', '10.2.0.5')], tenantSubnets: SUBNETS }, 'subnet');
    bad({ endpoints: [ep('a', '10.1.0.1', { ingress: dir([rule('t:p/r', { priority: -1 })]) })], tenantSubnets: [] }, 'priority');
  });
});

describe('routed policy: the stateful frame (interpreter of the model)', () => {
  const m = routedPolicyModel({
    endpoints: [
      ep('w1', '10.1.0.10'),
      ep('d1', '10.1.0.20', {
        ingress: dir([rule('t:pdb/no80', { action: 'deny', services: [{ protocol: 'tcp', ports: [{ from: 80, to: 80 }] }] })]),
      }),
      ep('q1', '10.2.0.10', { tenant: 'u' }),
    ],
    tenantSubnets: SUBNETS,
  });
  const gen = G.generation << GENERATION_SHIFT;
  const pkt = (port: number, from = 'w1', fromIp = '10.1.0.10'): RoutedPacket => ({
    iif: `nr-${from}`,
    oif: 'nr-d1',
    src: fromIp,
    dst: '10.1.0.20',
    protocol: 'tcp',
    port,
  });
  const est = (mark: number, reply = false): CtView => ({ state: 'established', reply, mark });

  it('a new connection allowed is committed with the generation, keeping the host network bits and clearing DENIED', () => {
    assert.deepEqual(interpret(m, G, pkt(22), NEW), { verdict: 'accept', mark: gen });
    assert.deepEqual(interpret(m, G, pkt(22), est(0x8001_0005 | (1 << GENERATION_SHIFT))), {
      verdict: 'accept',
      mark: (0x0001_0005 | gen) >>> 0,
    });
  });

  it('established under the current generation passes without policy (both directions); under an older one it is judged again', () => {
    assert.equal(interpret(m, G, pkt(80), est(gen)).verdict, 'accept');
    assert.equal(interpret(m, G, { ...pkt(80), iif: 'eth1', src: '10.9.9.9' }, est(gen)).verdict, 'accept', 'from the fabric');
    assert.equal(interpret(m, G, pkt(80, 'w1', '10.1.0.11'), est(gen)).verdict, 'drop', 'w1 spoofing inside an admitted connection');
    assert.equal(interpret(m, G, pkt(80), { state: 'related', reply: false, mark: gen }).verdict, 'accept', 'related, admitted');
    const old = est(1 << GENERATION_SHIFT);
    assert.deepEqual(interpret(m, G, pkt(80), old), { verdict: 'drop', mark: (old.mark | MARK_DENIED) >>> 0 });
  });

  it("a DENIED connection's replies are dropped; other replies of older generations pass; related passes; invalid is dropped", () => {
    const reply: RoutedPacket = { iif: 'nr-d1', oif: 'nr-w1', src: '10.1.0.20', dst: '10.1.0.10', protocol: 'tcp', port: 40000 };
    assert.equal(interpret(m, G, reply, est((MARK_DENIED | (1 << GENERATION_SHIFT)) >>> 0, true)).verdict, 'drop');
    assert.equal(interpret(m, G, reply, est(1 << GENERATION_SHIFT, true)).verdict, 'accept');
    assert.equal(interpret(m, G, pkt(80), { state: 'related', reply: false, mark: 0 }).verdict, 'accept');
    assert.equal(interpret(m, G, pkt(22), { state: 'invalid', reply: false, mark: gen }).verdict, 'drop');
  });

  it('a new connection denied is dropped and its mark left alone; a spoofed source, or another tenant, is dropped', () => {
    assert.deepEqual(interpret(m, G, pkt(80), NEW), { verdict: 'drop', mark: 0 });
    assert.equal(interpret(m, G, pkt(22, 'w1', '10.1.0.11'), NEW).verdict, 'drop', 'w1 sending as 10.1.0.11');
    assert.equal(interpret(m, G, pkt(22, 'q1', '10.2.0.10'), NEW).verdict, 'drop', 'tenant u to tenant t');
    assert.equal(interpret(m, G, { ...pkt(22), iif: 'eth0', src: '10.2.0.99' }, NEW).verdict, 'drop', 'tenant u (remote) to tenant t');
    assert.equal(
      interpret(m, G, { ...pkt(80), iif: 'eth0', oif: 'eth1', src: '10.1.0.10' }, NEW).verdict,
      'accept',
      'not a routed endpoint',
    );
  });
});

describe('routed policy: no rule that can deny (the stateless table)', () => {
  const open = routedPolicyModel({
    endpoints: [
      ep('w1', '10.1.0.10', { egress: dir([rule('t:pw/a', { services: [{ protocol: 'tcp', ports: [{ from: 80, to: 80 }] }] })]) }),
      ep('w2', '10.1.0.11'),
      ep('q1', '10.2.0.10', { tenant: 'u' }),
    ],
    tenantSubnets: [...SUBNETS, { tenant: 't', subnet: '10.3.0.0/24' }],
  });
  const text = renderRoutedPolicy(open, G);
  const pkt = (iif: string, oif: string, src: string, dst: string): RoutedPacket => ({ iif, oif, src, dst, protocol: 'tcp', port: 80 });

  it('allow rules and no isolation: no ct expression (conntrack stays off), the comment says stateless; hash lookups to a tenant chain', () => {
    assert.equal(open.stateful, false);
    assert.deepEqual(open.denyCapable, []);
    assert.doesNotMatch(text, /\bct\b/);
    assert.match(text, /comment "netloom routed policy: generation 3 digest 0000abcd stateless"/);
    assert.equal(parseGenerationComment(text)?.stateful, false);
    assert.doesNotMatch(text, /\. ipv4_addr[^\n]*\n\t\tflags interval/, 'no concatenation with intervals');
    assert.deepEqual(block(text, 'map from_endpoint'), [
      'type ifname . ipv4_addr : verdict',
      'elements = { "nr-q1" . 10.2.0.10 : jump from_tenant_1, "nr-w1" . 10.1.0.10 : jump from_tenant_0, "nr-w2" . 10.1.0.11 : jump from_tenant_0 }',
    ]);
    assert.deepEqual(block(text, 'map to_endpoint'), [
      'type ifname : verdict',
      'elements = { "nr-q1" : jump to_tenant_1, "nr-w1" : jump to_tenant_0, "nr-w2" : jump to_tenant_0 }',
    ]);
    assert.deepEqual(block(text, 'chain forward').slice(1), [
      'iifname . ip saddr vmap @from_endpoint',
      'iifname @endpoints drop comment "from an endpoint: not its own address, or IPv6"',
      'oifname vmap @to_endpoint',
    ]);
    assert.deepEqual(block(text, 'chain from_tenant_0'), [
      'ip daddr @tenant_0 oifname != @endpoints accept comment "to its tenant on another host"',
      'ip daddr @routed ip daddr != @tenant_0 drop comment "another tenant"',
      'oifname vmap @to_endpoint',
      'accept',
    ]);
    assert.deepEqual(block(text, 'chain to_tenant_1'), [
      'meta nfproto ipv6 drop',
      'ip saddr @routed ip saddr != @tenant_1 drop comment "another tenant"',
      'accept',
    ]);
  });

  it('one tenant owns every routed subnet: an endpoint with its own address passes on one lookup; spoofing dropped', () => {
    const one = routedPolicyModel({ endpoints: [ep('w1', '10.1.0.10'), ep('w2', '10.1.0.11')], tenantSubnets: [SUBNETS[0]!] });
    assert.deepEqual(block(renderRoutedPolicy(one, G), 'chain forward').slice(1), [
      'iifname . ip saddr @sources accept comment "from an endpoint with its own address (one tenant)"',
      'iifname @endpoints drop comment "from an endpoint: not its own address, or IPv6"',
      'oifname @endpoints meta nfproto ipv6 drop',
    ]);
    const v = (p: RoutedPacket) => interpret(one, G, p, NEW).verdict;
    assert.equal(v(pkt('nr-w1', 'eth1', '10.1.0.10', '10.1.0.99')), 'accept');
    assert.equal(v(pkt('nr-w1', 'nr-w2', '10.1.0.10', '10.1.0.11')), 'accept');
    assert.equal(v(pkt('eth1', 'nr-w1', '192.0.2.1', '10.1.0.10')), 'accept');
    assert.equal(v(pkt('nr-w1', 'eth1', '10.1.0.11', '10.1.0.99')), 'drop', 'w1 sending as w2');
  });

  it('its verdicts: within a tenant (across hosts or on this one) and to the world pass; spoofing and another tenant are dropped both ways; connection state plays no part', () => {
    const invalid: CtView = { state: 'invalid', reply: false, mark: 0 };
    for (const ct of [NEW, invalid]) {
      const v = (p: RoutedPacket) => interpret(open, G, p, ct).verdict;
      assert.equal(v(pkt('nr-w1', 'eth1', '10.1.0.10', '10.3.0.7')), 'accept', 'to its tenant on another host');
      assert.equal(v(pkt('eth1', 'nr-w1', '10.3.0.7', '10.1.0.10')), 'accept', 'from its tenant on another host');
      assert.equal(v(pkt('nr-w1', 'nr-w2', '10.1.0.10', '10.1.0.11')), 'accept', 'to its tenant on this host');
      assert.equal(v(pkt('nr-w1', 'eth1', '10.1.0.10', '192.0.2.1')), 'accept', 'to the world');
      assert.equal(v(pkt('eth1', 'nr-w1', '192.0.2.1', '10.1.0.10')), 'accept', 'from the world');
      assert.equal(v(pkt('nr-w1', 'eth1', '10.1.0.11', '10.1.0.12')), 'drop', 'w1 sending as w2');
      assert.equal(v(pkt('nr-w1', 'eth1', '10.1.0.10', '10.2.0.7')), 'drop', 'to tenant u');
      assert.equal(v(pkt('eth1', 'nr-w1', '10.2.0.7', '10.1.0.10')), 'drop', 'from tenant u');
      assert.equal(v(pkt('nr-q1', 'nr-w2', '10.2.0.10', '10.1.0.11')), 'drop', 'tenant u to t on this host');
      assert.equal(v(pkt('nr-w2', 'nr-q1', '10.1.0.11', '10.2.0.10')), 'drop', 'tenant t to u on this host');
    }
  });

  it('a table that was stateful stays so (no reset rule while no policy can deny); isolation or a deny line makes an endpoint deny-capable: its TCP connections no table admitted are reset', () => {
    const sticky = routedPolicyModel({ endpoints: [ep('w1', '10.1.0.10')], tenantSubnets: SUBNETS }, { stateful: true });
    const t = renderRoutedPolicy(sticky, G);
    assert.equal(sticky.stateful, true);
    assert.match(t, /generation 3 digest 0000abcd"/);
    assert.doesNotMatch(t, /deny_capable|reject/);
    const m = routedPolicyModel({
      endpoints: [
        ep('w1', '10.1.0.10'),
        ep('d1', '10.1.0.20', { ingress: dir([], true) }),
        ep('d2', '10.1.0.21', { egress: dir([rule('x', { action: 'deny' })]) }),
      ],
      tenantSubnets: SUBNETS,
    });
    assert.deepEqual(m.denyCapable, ['nr-d1', 'nr-d2']);
    const text = renderRoutedPolicy(m, G);
    assert.deepEqual(block(text, 'set deny_capable'), ['type ifname', 'elements = { "nr-d1", "nr-d2" }']);
    const routed = block(text, 'chain routed');
    assert.deepEqual(routed.slice(3, 5), [
      'ct mark and 0x7ffc0000 == 0x00000000 tcp flags & (syn | ack) != syn iifname @deny_capable reject with tcp reset comment "a connection no table of this host admitted"',
      'ct mark and 0x7ffc0000 == 0x00000000 tcp flags & (syn | ack) != syn oifname @deny_capable reject with tcp reset comment "a connection no table of this host admitted"',
    ]);
    const mid = (iif: string, oif: string, src: string, dst: string): RoutedPacket => ({ ...pkt(iif, oif, src, dst), midStream: true });
    assert.equal(interpret(m, G, mid('nr-w1', 'eth1', '10.1.0.10', '10.1.0.99'), NEW).verdict, 'accept', 'no end can deny: judged as new');
    assert.equal(interpret(m, G, mid('eth1', 'nr-d1', '10.1.0.99', '10.1.0.20'), NEW).verdict, 'drop', 'into an isolated endpoint');
    assert.equal(interpret(m, G, mid('nr-d2', 'eth1', '10.1.0.21', '10.1.0.99'), NEW).verdict, 'drop', 'out of one with a deny line');
    assert.equal(interpret(m, G, pkt('nr-w1', 'nr-d2', '10.1.0.10', '10.1.0.21'), NEW).verdict, 'accept', 'a SYN is judged');
    assert.equal(
      interpret(m, G, mid('nr-w1', 'nr-d2', '10.1.0.10', '10.1.0.21'), {
        state: 'established',
        reply: false,
        mark: G.generation << GENERATION_SHIFT,
      }).verdict,
      'accept',
      'a connection conntrack knows',
    );
  });
});
