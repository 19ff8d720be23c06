/**
 * Errors a caller sees for bad input: match prerequisites on encode (e.g. tcp_dst without
 * ip_proto=6), and ovs-ofctl text that does not parse, each a NetloomError INVALID_ARGUMENT whose
 * `field` and message name the offending field or keyword. Also parse/print behaviour the golden
 * corpus does not pin down (flow-stats lines, delete defaults).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { isNetloomError } from '../../../../lib/errors';
import { decodeMessage, encodeMessage } from '../../../../ovs/openflow/codec';
import { flowMod, OFPP, type FlowStats, type OfMessage } from '../../../../ovs/openflow/messages';
import { checkPrerequisites } from '../../../../ovs/openflow/oxm';
import { formatFlowMod, formatFlowStats, parseFlow, parseFlowStatsLine } from '../../../../tools/openflow-text/flow-text';
import { parseGroup, parseMeter } from '../../../../tools/openflow-text/group-meter-text';

function invalid(field: string, text?: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isNetloomError(e, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(e)}`);
    assert.equal(e.field, field);
    if (text) assert.match(e.message, text);
    return true;
  };
}

describe('openflow match prerequisites on encode', () => {
  it('tcp_dst needs eth_type ipv4/ipv6 and ip_proto=6', () => {
    const fm = flowMod({
      match: [
        { field: 'eth_type', value: 0x0800 },
        { field: 'tcp_dst', value: 80 },
      ],
    });
    assert.throws(() => encodeMessage(fm), invalid('tcp_dst', /ip_proto=6/));
    assert.throws(
      () =>
        encodeMessage(
          flowMod({
            match: [
              { field: 'ip_proto', value: 6 },
              { field: 'tcp_dst', value: 80 },
            ],
          }),
        ),
      invalid('ip_proto', /eth_type/),
    );
    const ok = flowMod({
      match: [
        { field: 'eth_type', value: 0x86dd },
        { field: 'ip_proto', value: 6 },
        { field: 'tcp_dst', value: 80 },
      ],
    });
    assert.equal(encodeMessage(ok).length > 0, true);
  });

  it('names the field for ipv4, arp, icmp, nd and vlan_pcp prerequisites', () => {
    assert.throws(() => checkPrerequisites([{ field: 'ipv4_src', value: '10.0.0.1' }]), invalid('ipv4_src', /0x0800/));
    assert.throws(
      () =>
        checkPrerequisites([
          { field: 'eth_type', value: 0x0800 },
          { field: 'arp_op', value: 1 },
        ]),
      invalid('arp_op', /arp/),
    );
    assert.throws(
      () =>
        checkPrerequisites([
          { field: 'eth_type', value: 0x0800 },
          { field: 'ip_proto', value: 6 },
          { field: 'icmpv4_type', value: 8 },
        ]),
      invalid('icmpv4_type'),
    );
    assert.throws(
      () =>
        checkPrerequisites([
          { field: 'eth_type', value: 0x86dd },
          { field: 'ip_proto', value: 58 },
          { field: 'icmpv6_type', value: 128 },
          { field: 'nd_target', value: '::1' },
        ]),
      invalid('nd_target', /135 or 136/),
    );
    assert.throws(() => checkPrerequisites([{ field: 'vlan_pcp', value: 3 }]), invalid('vlan_pcp'));
    assert.throws(
      () =>
        checkPrerequisites([
          { field: 'reg0', value: 1 },
          { field: 'reg0', value: 2 },
        ]),
      invalid('reg0', /twice/),
    );
  });

  it('rejects masks on unmaskable fields and out-of-range values, naming the field', () => {
    assert.throws(
      () => encodeMessage(flowMod({ match: [{ field: 'eth_type', value: 0x800, mask: 0xffff }] })),
      invalid('eth_type', /cannot be masked/),
    );
    assert.throws(
      () => encodeMessage(flowMod({ match: [{ field: 'ct_zone', value: 70000 }] })),
      invalid('flow_mod.match.ct_zone', /16 bits/),
    );
    assert.throws(
      () => encodeMessage(flowMod({ match: [{ field: 'eth_src', value: 'zz:00:00:00:00:00' }] })),
      invalid('flow_mod.match.eth_src', /MAC/),
    );
  });
});

describe('openflow text parse errors', () => {
  it('names unknown keywords and fields', () => {
    assert.throws(() => parseFlow('nw_srcc=1.2.3.4,actions=drop'), invalid('nw_srcc', /unknown match field/));
    assert.throws(() => parseFlow('ip,actions=frobnicate:1'), invalid('actions', /unknown action 'frobnicate'/));
    assert.throws(() => parseFlow('actions=set_field:1->reg99'), invalid('actions', /unknown field 'reg99'/));
  });

  it('names the field whose value is malformed', () => {
    assert.throws(() => parseFlow('ip,nw_src=10.0.0.256,actions=drop'), invalid('nw_src', /not an IPv4 address/));
    assert.throws(() => parseFlow('ip,nw_src=10.0.0.0/33,actions=drop'), invalid('nw_src', /prefix length/));
    assert.throws(() => parseFlow('dl_src=00:11:22,actions=drop'), invalid('dl_src', /MAC/));
    assert.throws(() => parseFlow('priority=70000,actions=drop'), invalid('priority', /65535/));
    assert.throws(() => parseFlow('ct_state=+trk+bogus,actions=drop'), invalid('ct_state', /unknown flag 'bogus'/));
    assert.throws(() => parseFlow('reg0=0x1ffffffff,actions=drop'), invalid('reg0', /32 bits/));
    assert.throws(() => parseFlow('ip,nw_proto=6,nw_proto=17,actions=drop'), invalid('nw_proto', /twice/));
  });

  it('reports missing prerequisites in text by field', () => {
    assert.throws(() => parseFlow('tp_dst=80,actions=drop'), invalid('tp_dst', /requires tcp, udp/));
    assert.throws(() => parseFlow('tcp_dst=80,actions=drop'), invalid('tcp_dst', /ip_proto=6/));
    assert.throws(() => parseFlow('nw_dst=10.0.0.1,actions=drop'), invalid('ipv4_dst', /0x0800/));
  });

  it('reports bad actions precisely', () => {
    assert.throws(() => parseFlow('ip,actions=conjunction(1,3/2)'), invalid('actions.conjunction', /3\/2/));
    assert.throws(() => parseFlow('ip,actions=ct(commit,zone=foo[0..15])'), invalid('actions.ct.zone', /unknown field 'foo'/));
    assert.throws(() => parseFlow('actions=load:0x100->NXM_NX_REG0[0..7]'), invalid('actions.load', /8 bits/));
    assert.throws(
      () => parseFlow('actions=move:NXM_NX_REG0[0..7]->NXM_NX_REG1[0..3]'),
      invalid('actions.move', /8 bits but destination 4/),
    );
    assert.throws(() => parseFlow('actions=output:1,(oops'), invalid('actions', /unbalanced/));
    assert.throws(
      () => parseFlow('ip,actions=ct(commit,nat(src=10.0.0.9-10.0.0.1))'),
      invalid('actions.ct.nat', /addresses run backwards/),
    );
    assert.throws(() => parseFlow('tcp,actions=ct(commit,nat(dst=10.0.0.1:90-80))'), invalid('actions.ct.nat', /ports run backwards/));
    assert.throws(() => parseFlow('in_port=1'), invalid('actions', /no actions=/));
    assert.throws(() => parseFlow('cookie=0x1/0xfffffffffffffffff,actions=drop'), invalid('cookie', /64 bits/));
  });

  it('reports bad groups and meters', () => {
    assert.throws(() => parseGroup('group_id=1,bucket=output:1'), invalid('type', /no type/));
    assert.throws(() => parseGroup('group_id=1,type=fancy,bucket=output:1'), invalid('type', /unknown group type/));
    assert.throws(() => parseGroup('group_id=1,type=indirect,bucket=output:1,bucket=output:2'), invalid('bucket', /exactly one bucket/));
    assert.throws(() => parseMeter('meter=1,kbps'), invalid('band', /no band/));
    assert.throws(() => parseMeter('meter=1,kbps,band=type=police,rate=1'), invalid('band[0].type', /police/));
  });
});

describe('openflow text: commands and flow stats', () => {
  it("parses the brief's example line, keeping cookie and cookie mask", () => {
    const fm = parseFlow(
      'table=1,priority=100,cookie=0x10/-1,ip,nw_src=10.1.0.0/16,tcp,tp_dst=80,ct_state=+trk+new,actions=ct(commit,zone=5,table=2),output:3',
    );
    assert.equal(fm.tableId, 1);
    assert.equal(fm.priority, 100);
    assert.equal(fm.cookie, 0x10n);
    assert.equal(fm.cookieMask, (1n << 64n) - 1n);
    assert.deepEqual(fm.match, [
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_src', value: '10.1.0.0', mask: '255.255.0.0' },
      { field: 'ip_proto', value: 6 },
      { field: 'tcp_dst', value: 80 },
      { field: 'ct_state', value: 0x21, mask: 0x21 },
    ]);
    assert.deepEqual(fm.instructions, [
      {
        type: 'apply_actions',
        actions: [
          { type: 'ct', flags: 1, zoneImm: 5, recircTable: 2, alg: 0, actions: [] },
          { type: 'output', port: 3, maxLen: 0 },
        ],
      },
    ]);
  });

  it('del-flows defaults: table all, out_port/out_group any, no actions needed', () => {
    const fm = parseFlow('cookie=0x10/-1,ip', { command: 'delete' });
    assert.equal(fm.command, 'delete');
    assert.equal(fm.tableId, 0xff);
    assert.equal(fm.cookieMask, (1n << 64n) - 1n);
    assert.equal(fm.outPort, OFPP.ANY);
    assert.deepEqual(fm.instructions, []);
  });

  it('reads IPv6 nat ranges with or without brackets, as ovs-ofctl prints them', () => {
    const bare = parseFlow('ipv6,actions=ct(commit,nat(src=2001:db8::1-2001:db8::5))');
    const bracketed = parseFlow('ipv6,actions=ct(commit,nat(src=[2001:db8::1]-[2001:db8::5]))');
    assert.deepEqual(encodeMessage(bare), encodeMessage(bracketed));
    const ins = bare.instructions[0];
    assert.ok(ins?.type === 'apply_actions' && ins.actions[0]?.type === 'ct');
    assert.deepEqual(ins.actions[0].actions[0], { type: 'nat', flags: 1, ipMin: '2001:db8::1', ipMax: '2001:db8::5' });
  });

  it('encodes set_field to in_port and masked vlan_vid as ovs-ofctl does (bytes captured from ovs-ofctl 3.1)', () => {
    const inPort = encodeMessage(parseFlow('actions=set_field:2->in_port,output:1')).toString('hex');
    assert.ok(inPort.includes('0019001000000002000200000000'), 'OFPAT_SET_FIELD with the 16-bit NXM_OF_IN_PORT header');
    const vid = encodeMessage(parseFlow('dl_vlan=5,actions=set_field:0x1005/0x1fff->vlan_vid')).toString('hex');
    assert.ok(vid.endsWith('ffff0018000023200007000b80000c020000000000000005'), 'one 12-bit NXAST_REG_LOAD into OXM_OF_VLAN_VID');
    const printed = formatFlowMod(decodeMessage(encodeMessage(parseFlow('actions=set_field:LOCAL->in_port'))) as never);
    assert.equal(printed, 'actions=set_field:LOCAL->in_port');
  });

  it('prints a flow-stats entry in dump-flows style that parses back to the same flow', () => {
    const fm = parseFlow('table=3,priority=10,idle_timeout=5,ip,nw_src=10.0.0.0/8,actions=ct(commit,zone=1),output:2');
    const fs: FlowStats = {
      tableId: 3,
      durationSec: 12,
      durationNsec: 345000000,
      priority: 10,
      idleTimeout: 5,
      hardTimeout: 0,
      flags: 0,
      cookie: 0n,
      packetCount: 7n,
      byteCount: 700n,
      match: fm.match,
      instructions: fm.instructions,
    };
    const line = formatFlowStats(fs);
    assert.match(
      line,
      /^cookie=0x0, duration=12\.345s, table=3, n_packets=7, n_bytes=700, idle_timeout=5, priority=10,ip,nw_src=10\.0\.0\.0\/255\.0\.0\.0 actions=ct\(commit,zone=1\),output:2$/,
    );
    assert.deepEqual(encodeMessage(parseFlowStatsLine(line)), encodeMessage(fm));
  });
});

describe('openflow text parser robustness', () => {
  it('mutated corpus lines either parse and encode, or fail with INVALID_ARGUMENT (never another exception)', () => {
    const corpus = readFileSync(path.resolve(__dirname, '../../../../../test/fixtures/openflow/flows.txt'), 'utf8').trim().split('\n');
    const alphabet = ',=()[]:.-/+>0123456789abcdefx_ NXM';
    fc.assert(
      fc.property(
        fc.nat(corpus.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.nat(alphabet.length - 1), fc.nat(2)), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          let l = corpus[which]!;
          for (const [at, ch, op] of edits) {
            const p = at % (l.length + 1);
            l = op === 0 ? l.slice(0, p) + l.slice(p + 1) : op === 1 ? l.slice(0, p) + alphabet[ch]! + l.slice(p) : l.slice(0, p);
          }
          for (const parse of [parseFlow, parseGroup, parseMeter] as ((s: string) => OfMessage)[]) {
            try {
              encodeMessage(parse(l));
            } catch (e) {
              if (!isNetloomError(e, 'INVALID_ARGUMENT')) throw new Error(`'${l}' threw ${String(e)}`);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads meters as ovs-ofctl dump-meters prints them', () => {
    const dumped = parseMeter('meter=1 kbps burst stats bands=\ntype=drop rate=10000 burst_size=100');
    assert.deepEqual(encodeMessage(dumped), encodeMessage(parseMeter('meter=1,kbps,burst,stats,band=type=drop,rate=10000,burst_size=100')));
  });
});
