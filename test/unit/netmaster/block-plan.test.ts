/**
 * The pure block plan (issue 15): which block of a subnet a host gets next, its usable addresses,
 * and the key layout and guard spans a claim relies on.
 */
import assert from 'node:assert/strict';
import { isNetloomError } from '../../../lib/errors';
import { parseV4, parseV4Subnet, type V4Subnet } from '../../../netmaster/model/net';
import { blockKeys, blockOfKey, spanKeyPrefixes } from '../../../netmaster/service/block-keys';
import { planBlocks, type BlockPlanInput, type PlannedBlock } from '../../../netmaster/service/block-plan';
import { claimGuards } from '../../../netmaster/service/blocks';

const ip = (t: string): number => {
  const n = parseV4(t);
  if (n === undefined) throw new Error(`bad address ${t}`);
  return n;
};
const sub = (t: string): V4Subnet => {
  const s = parseV4Subnet(t);
  if (!s) throw new Error(`bad subnet ${t}`);
  return s;
};
const cidr = (t: string) => {
  const [a, l] = t.split('/');
  return { base: ip(a ?? ''), prefix: Number(l) };
};

function plan(input: Partial<BlockPlanInput> & { subnet: V4Subnet }, want = 1): PlannedBlock[] {
  const p = planBlocks({ gateway: undefined, blockPrefix: 26, blocks: [], held: [], ...input }, want);
  assert.equal(p.kind, 'blocks');
  return p.kind === 'blocks' ? p.blocks : [];
}

describe('netmaster address blocks: the plan', () => {
  it('does not split a subnet smaller than a block (/28 with /26 blocks)', () => {
    const p = planBlocks({ subnet: sub('10.1.1.0/28'), gateway: ip('10.1.1.1'), blockPrefix: 26, blocks: [], held: [] });
    assert.deepEqual(p, { kind: 'whole' });
  });

  it('hands out the block around the gateway without the gateway, the network address or the broadcast', () => {
    const [b] = plan({ subnet: sub('10.1.0.0/24'), gateway: ip('10.1.0.1'), held: [ip('10.1.0.1')] });
    assert.equal(b?.cidr, '10.1.0.0/26');
    assert.deepEqual(b?.ranges, [[ip('10.1.0.2'), ip('10.1.0.63')]]);
    assert.equal(b?.size, 62);
  });

  it('splits a block around a gateway in its middle and ends the last block before the broadcast', () => {
    const blocks = plan({ subnet: sub('10.1.0.0/24'), gateway: ip('10.1.0.200'), held: [ip('10.1.0.200')] }, 4);
    assert.deepEqual(
      blocks.map((b) => b.cidr),
      ['10.1.0.0/26', '10.1.0.64/26', '10.1.0.128/26', '10.1.0.192/26'],
    );
    assert.deepEqual(blocks[1]?.ranges, [[ip('10.1.0.64'), ip('10.1.0.127')]]);
    assert.deepEqual(blocks[3]?.ranges, [
      [ip('10.1.0.192'), ip('10.1.0.199')],
      [ip('10.1.0.201'), ip('10.1.0.254')],
    ]);
  });

  it('skips existing blocks, also of another size, and blocks holding an address netmaster gave', () => {
    const [b] = plan({
      subnet: sub('10.2.0.0/24'),
      blocks: [cidr('10.2.0.0/26'), cidr('10.2.0.64/27')],
      held: [ip('10.2.0.130')],
    });
    assert.equal(b?.cidr, '10.2.0.192/26');
    // a larger older block covers several candidates
    const [c] = plan({ subnet: sub('10.3.0.0/24'), blocks: [cidr('10.3.0.0/25')] });
    assert.equal(c?.cidr, '10.3.0.128/26');
  });

  it('is EXHAUSTED, naming the network field, when every block is taken', () => {
    const input: BlockPlanInput = {
      subnet: sub('10.4.0.0/24'),
      gateway: ip('10.4.0.1'),
      blockPrefix: 26,
      blocks: [cidr('10.4.0.0/26'), cidr('10.4.0.64/26'), cidr('10.4.0.128/26')],
      held: [ip('10.4.0.1'), ip('10.4.0.250')],
    };
    assert.throws(
      () => planBlocks(input, 1, 'network t1:n4'),
      (e: unknown) => isNetloomError(e, 'EXHAUSTED') && e.field === 'networkName' && e.message.includes('t1:n4'),
    );
  });

  it('serves a subnet exactly one block large as one block, and keeps to a Contiv range subnet', () => {
    const [one] = plan({ subnet: sub('10.5.0.0/26') });
    assert.deepEqual(one?.ranges, [[ip('10.5.0.1'), ip('10.5.0.62')]]);
    const blocks = plan({ subnet: sub('10.6.0.100-10.6.0.140/24') }, 8);
    assert.deepEqual(
      blocks.map((b) => [b.cidr, b.ranges]),
      [
        ['10.6.0.64/26', [[ip('10.6.0.100'), ip('10.6.0.127')]]],
        ['10.6.0.128/26', [[ip('10.6.0.128'), ip('10.6.0.140')]]],
      ],
    );
  });

  it('refuses a bad block prefix naming blockPrefix', () => {
    for (const bad of [0, 33, 26.5, Number.NaN]) {
      assert.throws(
        () => planBlocks({ subnet: sub('10.1.0.0/16'), gateway: undefined, blockPrefix: bad, blocks: [], held: [] }),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'blockPrefix',
      );
    }
  });

  it('plans in a /8 with most blocks taken without walking every address', () => {
    const taken = Array.from({ length: 5000 }, (_, i) => ({ base: ip('10.0.0.0') + i * 64, prefix: 26 }));
    const [b] = plan({ subnet: sub('10.0.0.0/8'), blocks: taken });
    assert.equal(b?.base, ip('10.0.0.0') + 5000 * 64);
  });
});

describe('netmaster address blocks: keys and claim guards', () => {
  it('round-trips block keys in address order and refuses unaligned or foreign ones', () => {
    const k = blockKeys.key('t1:n1', cidr('10.1.0.64/26'));
    assert.equal(k, '/netloom/v1/alloc/block/t1:n1/0a010040-26');
    assert.deepEqual(blockOfKey('t1:n1', k), cidr('10.1.0.64/26'));
    assert.equal(blockOfKey('t1:n1', '/netloom/v1/alloc/block/t1:n1/0a010041-26'), undefined);
    assert.equal(blockOfKey('t1:n2', k), undefined);
    assert.ok(blockKeys.key('t1:n1', cidr('10.1.0.128/26')) > k);
  });

  it('covers exactly a block span with hex key prefixes', () => {
    assert.deepEqual(spanKeyPrefixes('d/', cidr('10.1.0.64/26')), ['d/0a01004', 'd/0a01005', 'd/0a01006', 'd/0a01007']);
    assert.deepEqual(spanKeyPrefixes('d/', cidr('10.1.0.0/24')), ['d/0a0100']);
    assert.deepEqual(spanKeyPrefixes('d/', cidr('10.1.0.7/32')), ['d/0a010007']);
  });

  it('guards the network, the block key, blocks inside and around it, and addresses inside it only', () => {
    const g = claimGuards('t1:n1', '7', cidr('10.1.0.64/26'), 24, '100');
    const keys = g.map((x) => (x.kind === 'modEquals' ? `eq ${x.key} ${x.modRevision}` : `since ${x.prefix} ${x.revision}`));
    assert.ok(keys.includes('eq /netloom/v1/cfg/network/t1:n1 7'));
    assert.ok(keys.includes('eq /netloom/v1/alloc/block/t1:n1/0a010040-26 0'));
    assert.ok(keys.includes('eq /netloom/v1/alloc/block/t1:n1/0a010000-25 0'));
    assert.ok(keys.includes('eq /netloom/v1/alloc/block/t1:n1/0a010000-24 0'));
    assert.ok(keys.includes('since /netloom/v1/alloc/block/t1:n1/0a01007 100'));
    assert.ok(keys.includes('since /netloom/v1/alloc/ip/t1:n1/0a01004 100'));
    assert.ok(!keys.some((k) => k.includes('alloc/ip/t1:n1/0a01008')));
  });
});
