import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../../lib/errors';
import { LocalAllocator } from '../../../../netplugin/ipam/local-allocator';
import { DEFAULT_LOW_WATER, needsNewBlock } from '../../../../netplugin/ipam/low-water';

const NET = 't1/net1';

function allocator(): LocalAllocator {
  const a = new LocalAllocator();
  // added out of order on purpose: the order of addresses must follow the addresses, not the claims
  a.addBlock({ cidr: '10.1.0.64/26', networkKey: NET, reserved: [] });
  a.addBlock({ cidr: '10.1.0.0/26', networkKey: NET, reserved: ['10.1.0.0', '10.1.0.1'] });
  return a;
}

describe('ipam LocalAllocator', () => {
  it('gives the usable addresses of the network blocks in order, skipping reserved ones', () => {
    const a = allocator();
    assert.equal(a.allocate('e1', NET).address, '10.1.0.2');
    assert.equal(a.allocate('e2', NET).address, '10.1.0.3');
    assert.equal(a.get('e1')?.state, 'local');
  });

  it('does not give a released address to the next endpoint: round-robin, wrapping to the lowest free one', () => {
    const a = allocator();
    a.allocate('e1', NET);
    a.allocate('e2', NET);
    assert.ok(a.release('e1'));
    // a pod made again at once would take its old address with a new MAC (peers' neighbour caches)
    assert.equal(a.allocate('e3', NET).address, '10.1.0.4', 'the next address, not the one just freed');
    for (let i = 0; i < 123; i++) a.allocate(`f${i}`, NET);
    // every address above the cursor is taken: the lowest free one, the first freed, comes round
    assert.equal(a.allocate('wrap', NET).address, '10.1.0.2');
    assert.equal(a.freeCount(NET), 0);
  });

  it('continues after the highest held address when rebuilt from its snapshot', () => {
    const a = allocator();
    for (const e of ['e1', 'e2', 'e3']) a.allocate(e, NET);
    a.release('e3');
    const b = LocalAllocator.fromSnapshot(a.snapshot());
    assert.equal(b.allocate('e4', NET).address, '10.1.0.4', 'after 10.1.0.3, the highest held');
  });

  it('moves to the next block when the lower one is full, and keeps networks apart', () => {
    const a = allocator();
    for (let i = 0; i < 62; i++) a.allocate(`e${i}`, NET);
    assert.equal(a.allocate('next', NET).address, '10.1.0.64');
    a.addBlock({ cidr: '10.1.0.0/26', networkKey: 't1/other', reserved: [] });
    assert.equal(a.allocate('o1', 't1/other').address, '10.1.0.0', 'the same address in another network is another address');
  });

  it('gives an endpoint that asks again the address it holds, and refuses it another network', () => {
    const a = allocator();
    const first = a.allocate('e1', NET);
    assert.deepEqual(a.allocate('e1', NET), first);
    a.addBlock({ cidr: '10.9.0.0/30', networkKey: 'n2', reserved: [] });
    assert.throws(
      () => a.allocate('e1', 'n2'),
      (e: unknown) => isNetloomError(e, 'CONFLICT') && e.field === 'networkKey',
    );
  });

  it('is EXHAUSTED, naming the network, when the blocks are full, and a release makes room', () => {
    const a = new LocalAllocator();
    assert.throws(
      () => a.allocate('e0', NET),
      (e: unknown) => isNetloomError(e, 'EXHAUSTED') && e.message.includes(NET) && /holds no address block/.test(e.message),
    );
    a.addBlock({ cidr: '10.2.0.0/30', networkKey: NET, reserved: ['10.2.0.0', '10.2.0.3'] });
    assert.equal(a.allocate('e1', NET).address, '10.2.0.1');
    assert.equal(a.allocate('e2', NET).address, '10.2.0.2');
    assert.throws(
      () => a.allocate('e3', NET),
      (e: unknown) =>
        isNetloomError(e, 'EXHAUSTED') && e.message.includes(NET) && e.message.includes('10.2.0.0/30') && e.field === 'network',
    );
    assert.equal(a.freeCount(NET), 0);
    a.release('e1');
    assert.equal(a.allocate('e3', NET).address, '10.2.0.1');
  });

  it('counts free addresses as usable minus held', () => {
    const a = allocator();
    assert.equal(a.freeCount(NET), 62 + 64);
    a.allocate('e1', NET);
    a.markRegistered('e1');
    a.allocate('e2', NET);
    assert.equal(a.freeCount(NET), 124);
    assert.equal(a.freeCount('nothing'), 0);
  });

  it('refuses overlapping blocks of one network, a block with host bits, and reserved addresses outside it', () => {
    const a = allocator();
    assert.throws(
      () => a.addBlock({ cidr: '10.1.0.96/27', networkKey: NET, reserved: [] }),
      (e: unknown) => isNetloomError(e, 'CONFLICT'),
    );
    assert.throws(
      () => a.addBlock({ cidr: '10.3.0.1/26', networkKey: NET, reserved: [] }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'block.cidr',
    );
    assert.throws(
      () => a.addBlock({ cidr: '10.3.0.0/26', networkKey: NET, reserved: ['10.3.1.0'] }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'block.reserved',
    );
    a.addBlock({ cidr: '10.1.0.64/26', networkKey: NET, reserved: [] }); // the same block again: no-op
    assert.equal(a.blocksOf(NET).length, 2);
  });

  it('gives a block back only when none of its addresses is held', () => {
    const a = allocator();
    a.allocate('e1', NET);
    assert.throws(
      () => a.removeBlock(NET, '10.1.0.0/26'),
      (e: unknown) => isNetloomError(e, 'IN_USE') && e.message.includes('e1'),
    );
    assert.ok(a.removeBlock(NET, '10.1.0.64/26'));
    a.release('e1');
    assert.ok(a.removeBlock(NET, '10.1.0.0/26'));
    assert.equal(a.removeBlock(NET, '10.1.0.0/26'), false);
  });

  it('rebuilds from its snapshot, and refuses a snapshot that gives one address twice or outside its blocks', () => {
    const a = allocator();
    a.allocate('e1', NET);
    a.markRegistered('e1');
    a.allocate('e2', NET);
    const b = LocalAllocator.fromSnapshot(a.snapshot());
    assert.deepEqual(b.snapshot(), a.snapshot());
    const snap = a.snapshot();
    assert.throws(
      () => LocalAllocator.fromSnapshot({ ...snap, allocations: [...snap.allocations, { ...snap.allocations[0]!, endpointId: 'twin' }] }),
      (e: unknown) => isNetloomError(e, 'CONFLICT') && e.message.includes('10.1.0.2'),
    );
    assert.throws(
      () =>
        LocalAllocator.fromSnapshot({ ...snap, allocations: [{ endpointId: 'x', networkKey: NET, address: '10.1.0.1', state: 'local' }] }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'address',
    );
  });
});

describe('ipam low-water mark', () => {
  it('asks for a block when free addresses drop below the mark (default 8)', () => {
    assert.equal(DEFAULT_LOW_WATER, 8);
    assert.equal(needsNewBlock(8), false);
    assert.equal(needsNewBlock(7), true);
    assert.equal(needsNewBlock(0), true);
    assert.equal(needsNewBlock(3, 4), true);
    assert.equal(needsNewBlock(0, 0), false);
    assert.throws(
      () => needsNewBlock(3, -1),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'lowWater',
    );
  });

  it('follows the allocator: a /28 block asks after its 9th address', () => {
    const a = new LocalAllocator();
    a.addBlock({ cidr: '10.4.0.0/28', networkKey: NET, reserved: [] });
    const asks: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      a.allocate(`e${i}`, NET);
      asks.push(needsNewBlock(a.freeCount(NET)));
    }
    assert.deepEqual(asks, [false, false, false, false, false, false, false, false, true, true]);
  });
});
