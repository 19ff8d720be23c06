/**
 * The packet tracer's conjunctive matches and meter instruction, against OVS's classifier
 * (lib/classifier.c classifier_lookup__, ovs-fields(7) "Conjunctive match fields").
 */
import { strict as assert } from 'node:assert';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import type { Match } from '../../../ovs/openflow/messages';
import { PacketTracer, Packet, TraceResult } from '../../support/packet-tracer';
import { apply, base, conj, f, goto, out } from './tracer-flows';

const src = (ip: string): Match => [{ field: 'ipv4_src', value: ip }];
const dst = (ip: string): Match => [{ field: 'ipv4_dst', value: ip }];
const conjId = (id: number): Match => [{ field: 'conj_id', value: id }];
const ports = (r: TraceResult): number[] => r.outputs.map((o) => o.port);
const to = (ipv4_src: string, ipv4_dst: string, extra: Partial<Packet> = {}): Packet => ({ ...base, ipv4_src, ipv4_dst, ...extra });

/** conjunction 7 (priority 100): source in {.1, .3} and destination in {.2, .4}; its conj_id flow outputs to 5 */
const twoClauses = (): DesiredFlow[] => [
  f(0, 100, src('10.0.0.1'), [apply(conj(7, 0, 2))], 'src-a'),
  f(0, 100, src('10.0.0.3'), [apply(conj(7, 0, 2))], 'src-c'),
  f(0, 100, dst('10.0.0.2'), [apply(conj(7, 1, 2))], 'dst-b'),
  f(0, 100, dst('10.0.0.4'), [apply(conj(7, 1, 2))], 'dst-d'),
  f(0, 100, conjId(7), [apply(out(5))], 'rule-7'),
];

describe('packet tracer: conjunctive matches', () => {
  it('two clauses: any flow of each clause meets it, the conj_id flow decides and is named in the step', () => {
    const t = new PacketTracer(twoClauses());
    for (const [s, d] of [
      ['10.0.0.1', '10.0.0.2'],
      ['10.0.0.3', '10.0.0.4'],
      ['10.0.0.3', '10.0.0.2'],
    ] as const) {
      const r = t.trace(to(s, d));
      assert.deepEqual(ports(r), [5], `${s} -> ${d}`);
      assert.equal(r.steps[0]!.object, 'rule-7');
      assert.equal(r.steps[0]!.feature, 'l2Forward');
      assert.equal(r.steps[0]!.conjId, 7);
    }
    assert.deepEqual(t.trace(to('10.0.0.3', '10.0.0.4')).steps[0]!.conjClauses, [
      { clause: 0, priority: 100, feature: 'l2Forward', object: 'src-c' },
      { clause: 1, priority: 100, feature: 'l2Forward', object: 'dst-d' },
    ]);
  });

  it('a missing clause fails the conjunction, whichever clause it is', () => {
    const t = new PacketTracer([...twoClauses(), f(0, 0, [], [apply(out(9))], 'default')]);
    for (const [s, d] of [
      ['10.0.0.1', '10.0.0.9'],
      ['10.0.0.9', '10.0.0.2'],
      ['10.0.0.9', '10.0.0.9'],
    ] as const) {
      const r = t.trace(to(s, d));
      assert.deepEqual(ports(r), [9], `${s} -> ${d}`);
      assert.equal(r.steps[0]!.conjId, undefined);
    }
    assert.ok(t.trace(to('10.0.0.1', '10.0.0.9')).notes.some((n) => n.includes('conjunction 7') && n.includes('not met')));
    const bare = new PacketTracer(twoClauses()).trace(to('10.0.0.1', '10.0.0.9'));
    assert.equal(bare.steps[0]!.noMatch, true, 'clause flows alone never act');
  });

  it('three clauses: all three are needed', () => {
    const t = new PacketTracer([
      f(0, 100, src('10.0.0.1'), [apply(conj(3, 0, 3))]),
      f(0, 100, dst('10.0.0.2'), [apply(conj(3, 1, 3))]),
      f(
        0,
        100,
        [
          { field: 'ip_proto', value: 6 },
          { field: 'tcp_dst', value: 80 },
        ],
        [apply(conj(3, 2, 3))],
        'http',
      ),
      f(
        0,
        100,
        [
          { field: 'ip_proto', value: 6 },
          { field: 'tcp_dst', value: 443 },
        ],
        [apply(conj(3, 2, 3))],
        'https',
      ),
      f(0, 100, conjId(3), [apply(out(3))], 'web'),
    ]);
    const tcp = (port: number): Partial<Packet> => ({ ip_proto: 6, tcp_src: 4000, tcp_dst: port });
    const hit = t.trace(to('10.0.0.1', '10.0.0.2', tcp(443)));
    assert.deepEqual(ports(hit), [3]);
    assert.deepEqual(
      hit.steps[0]!.conjClauses!.map((c) => c.clause),
      [0, 1, 2],
    );
    assert.deepEqual(ports(t.trace(to('10.0.0.1', '10.0.0.2', tcp(22)))), [], 'third clause missing');
    assert.deepEqual(ports(t.trace(to('10.0.0.1', '10.0.0.2'))), [], 'UDP: the port clause has a TCP prerequisite');
    assert.deepEqual(ports(t.trace(to('10.0.0.9', '10.0.0.2', tcp(80)))), [], 'first clause missing');
  });

  it('a clause flow shared by two conjunctions carries both actions and serves each', () => {
    // conjunction 1: src {.1, .3} x dst {.2}; conjunction 2: src {.3, .5} x dst {.6}; src .3 is in both
    const t = new PacketTracer([
      f(0, 100, src('10.0.0.1'), [apply(conj(1, 0, 2))]),
      f(0, 100, src('10.0.0.3'), [apply(conj(1, 0, 2), conj(2, 0, 2), { type: 'note', data: Buffer.from('shared') })], 'shared'),
      f(0, 100, src('10.0.0.5'), [apply(conj(2, 0, 2))]),
      f(0, 100, dst('10.0.0.2'), [apply(conj(1, 1, 2))]),
      f(0, 100, dst('10.0.0.6'), [apply(conj(2, 1, 2))]),
      f(0, 100, conjId(1), [apply(out(1 + 10))], 'rule-1'),
      f(0, 100, conjId(2), [apply(out(2 + 10))], 'rule-2'),
    ]);
    assert.deepEqual(ports(t.trace(to('10.0.0.3', '10.0.0.2'))), [11]);
    assert.deepEqual(ports(t.trace(to('10.0.0.3', '10.0.0.6'))), [12]);
    assert.equal(t.trace(to('10.0.0.3', '10.0.0.6')).steps[0]!.conjClauses![0]!.object, 'shared');
    assert.deepEqual(ports(t.trace(to('10.0.0.1', '10.0.0.6'))), [], 'src .1 is only in conjunction 1');
    assert.deepEqual(ports(t.trace(to('10.0.0.5', '10.0.0.2'))), [], 'src .5 is only in conjunction 2');
  });

  it('an unmet conjunction does not hide a lower-priority plain flow; a met one beats it', () => {
    const t = new PacketTracer([...twoClauses(), f(0, 50, [{ field: 'eth_type', value: 0x0800 }], [apply(out(8))], 'ip')]);
    assert.deepEqual(ports(t.trace(to('10.0.0.1', '10.0.0.9'))), [8], 'unmet: falls through to priority 50');
    assert.deepEqual(ports(t.trace(to('10.0.0.1', '10.0.0.2'))), [5], 'met at 100: beats priority 50');
  });

  it('a met higher-priority conjunction beats a met lower one; an unmet higher one lets the lower decide', () => {
    const t = new PacketTracer([
      ...twoClauses(),
      f(0, 50, src('10.0.0.1'), [apply(conj(8, 0, 2))]),
      f(0, 50, [{ field: 'ip_proto', value: 17 }], [apply(conj(8, 1, 2))]),
      f(0, 50, conjId(8), [apply(out(6))], 'rule-8'),
    ]);
    const high = t.trace(to('10.0.0.1', '10.0.0.2'));
    assert.deepEqual([ports(high), high.steps[0]!.conjId], [[5], 7]);
    const low = t.trace(to('10.0.0.1', '10.0.0.9'));
    assert.deepEqual([ports(low), low.steps[0]!.conjId, low.steps[0]!.object], [[6], 8, 'rule-8']);
  });

  it('a plain flow of the same priority as the clause flows wins (OVS prefers the certain match)', () => {
    const t = new PacketTracer([...twoClauses(), f(0, 100, src('10.0.0.1'), [apply(out(4))], 'plain')]);
    assert.deepEqual(ports(t.trace(to('10.0.0.1', '10.0.0.2'))), [4]);
  });

  it('the conj_id search is a whole-table search: a plain flow above the conj_id flow wins it', () => {
    // a trap for pipelines: conj_id flows must outrank the plain flows a met packet can also match
    const t = new PacketTracer([
      f(0, 100, src('10.0.0.1'), [apply(conj(7, 0, 2))]),
      f(0, 100, dst('10.0.0.2'), [apply(conj(7, 1, 2))]),
      f(0, 60, [{ field: 'ip_proto', value: 17 }], [apply(out(4))], 'udp'),
      f(0, 10, conjId(7), [apply(out(5))], 'rule-7'),
    ]);
    const r = t.trace(to('10.0.0.1', '10.0.0.2'));
    assert.deepEqual([ports(r), r.steps[0]!.object, r.steps[0]!.conjId], [[4], 'udp', 7]);
  });

  it('the conj_id search does not see a plain flow behind a clause flow of identical match', () => {
    const ip: Match = [{ field: 'eth_type', value: 0x0800 }];
    const t = new PacketTracer([
      f(0, 100, ip, [apply(conj(7, 0, 2))]),
      f(0, 100, dst('10.0.0.2'), [apply(conj(7, 1, 2))]),
      f(0, 50, ip, [apply(out(4))], 'ip'),
      f(0, 10, conjId(7), [apply(out(5))], 'rule-7'),
    ]);
    assert.deepEqual(ports(t.trace(to('10.0.0.1', '10.0.0.2'))), [5], 'met: the priority-50 flow is hidden from the conj_id search');
    assert.deepEqual(ports(t.trace(to('10.0.0.1', '10.0.0.9'))), [4], 'unmet: the ordinary lookup reaches it');
  });

  it('a met conjunction whose conj_id search finds nothing counts as not met', () => {
    const t = new PacketTracer([
      ...twoClauses().filter((x) => x.object !== 'rule-7'),
      f(0, 100, conjId(99), [apply(out(2))]),
      f(0, 50, src('10.0.0.1'), [apply(conj(8, 0, 2))]),
      f(0, 50, dst('10.0.0.2'), [apply(conj(8, 1, 2))]),
      f(0, 50, conjId(8), [apply(out(6))], 'rule-8'),
    ]);
    const r = t.trace(to('10.0.0.1', '10.0.0.2'));
    assert.deepEqual([ports(r), r.steps[0]!.conjId], [[6], 8]);
    assert.ok(r.notes.some((n) => n.includes('no flow matches conj_id=7')));
  });

  it('refuses two conjunctions met at one priority (OVS picks either)', () => {
    const t = new PacketTracer([
      ...twoClauses(),
      f(0, 100, [{ field: 'ip_proto', value: 17 }], [apply(conj(9, 0, 2))]),
      f(
        0,
        100,
        [
          { field: 'udp_dst', value: 2000 },
          { field: 'ip_proto', value: 17 },
        ],
        [apply(conj(9, 1, 2))],
      ),
      f(0, 100, conjId(9), [apply(out(6))]),
    ]);
    assert.throws(() => t.trace(to('10.0.0.1', '10.0.0.2')), /conjunctions 7 and 9 both match/);
    assert.deepEqual(ports(t.trace(to('10.0.0.9', '10.0.0.2'))), [6], 'one met is fine');
  });

  it('rejects flows OVS rejects: conjunction mixed with other actions or instructions, bad clause numbers, one id with two sizes', () => {
    assert.throws(() => new PacketTracer([f(0, 1, [], [apply(conj(1, 0, 2), out(2))])]), /mixes conjunction/);
    assert.throws(() => new PacketTracer([f(0, 1, [], [apply(conj(1, 0, 2)), goto(3)])]), /mixes conjunction/);
    assert.throws(() => new PacketTracer([f(0, 1, [], [apply(conj(1, 0, 1))])]), /2\.\.64 clauses/);
    assert.throws(() => new PacketTracer([f(0, 1, [], [apply(conj(1, 2, 2))])]), /outside 0\.\.1/);
    assert.throws(
      () => new PacketTracer([f(0, 1, src('10.0.0.1'), [apply(conj(1, 0, 2))]), f(0, 1, dst('10.0.0.2'), [apply(conj(1, 1, 3))])]),
      /both 2 and 3 clauses/,
    );
    assert.throws(() => new PacketTracer([f(0, 1, [{ field: 'conj_id', value: 1, mask: 1 }], [])]), /masks conj_id/);
  });
});

describe('packet tracer: meter instruction', () => {
  it('records the meter in the step and goes on with the flow', () => {
    const t = new PacketTracer([
      f(0, 1, [], [{ type: 'meter', meterId: 3 }, apply(out(2)), goto(1)], 'metered'),
      f(1, 1, [], [apply(out(4))]),
    ]);
    const r = t.trace(base);
    assert.deepEqual(ports(r), [2, 4]);
    assert.deepEqual(
      r.steps.map((s) => [s.object, s.meterId]),
      [
        ['metered', 3],
        ['1/1', undefined],
      ],
    );
  });
});
