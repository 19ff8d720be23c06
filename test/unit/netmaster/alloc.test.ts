/**
 * The pure parts of allocation and of the consistency check: free numbers in a scanned page of
 * allocation keys, and the diff of allocations against the objects that should own them.
 */
import assert from 'node:assert/strict';
import { freeInPage } from '../../../netmaster/store/alloc';
import { layout } from '../../../netmaster/store/layout';
import { diffAllocations, type AllocationWorld } from '../../../netmaster/service/consistency';
import { Claims } from '../../../netmaster/service/claims';
import type { Endpoint, Network } from '../../../netmaster/model/schemas';

const page = (nums: number[], more: boolean) => ({
  kvs: nums.map((n) => ({ key: layout.tag('vlan', n), value: 'x', modRevision: '1', createRevision: '1' })),
  count: nums.length,
  more,
});

describe('netmaster allocation: free numbers in a scanned page', () => {
  it('finds gaps after the cursor inside the ranges', () => {
    assert.deepEqual(freeInPage(page([1, 2, 4, 7], false), { ranges: [[1, 4094]] }, 1, 3), [3, 5, 6]);
  });
  it('stops at the end of a page that has more keys after it', () => {
    assert.deepEqual(freeInPage(page([10, 11, 12], true), { ranges: [[1, 100]] }, 10, 5), []);
  });
  it('honours several ranges and the range ends', () => {
    assert.deepEqual(
      freeInPage(
        page([5], false),
        {
          ranges: [
            [20, 21],
            [5, 6],
          ],
        },
        5,
        4,
      ),
      [6, 20, 21],
    );
  });
  it('reads hex keys for addresses', () => {
    const p = {
      kvs: [0x0a000001, 0x0a000002].map((n) => ({ key: layout.ip('t:n', n), value: 'x', modRevision: '1', createRevision: '1' })),
      count: 2,
      more: false,
    };
    assert.deepEqual(freeInPage(p, { hex: true, ranges: [[0x0a000001, 0x0a0000fe]] }, 0x0a000001, 1), [0x0a000003]);
  });
});

describe('netmaster consistency: allocations against objects', () => {
  const nw: Network = {
    tenantName: 't',
    networkName: 'n',
    nwType: 'data',
    encap: 'vlan',
    pktTag: 7,
    subnet: '10.0.0.0/24',
    gateway: '10.0.0.1',
    ipv6Subnet: '',
    ipv6Gateway: '',
    cfgdTag: '',
    nat: true,
  };
  const ep = {
    endpointID: 'e1',
    tenantName: 't',
    networkName: 'n',
    network: 't:n',
    groupName: '',
    ipAddress: '10.0.0.5',
    macAddress: '02:00:00:00:00:01',
  } as Endpoint;
  const world = (): AllocationWorld => ({
    networks: [{ key: 't:n', config: nw }],
    groups: [],
    endpoints: [ep],
    actual: new Map([
      [layout.tag('vlan', 7), 't:n'],
      [layout.ip('t:n', 0x0a000001), 'gateway'],
      [layout.ip('t:n', 0x0a000005), 'e1'],
      [layout.mac('02:00:00:00:00:01'), 'e1'],
      [layout.epByNet('t:n', 'e1'), ''],
    ]),
  });
  it('is clean when every key has its owner', () => {
    assert.deepEqual(diffAllocations(world()), { leaked: [], missing: [] });
  });
  it('reports a leaked address and a missing MAC', () => {
    const w = world();
    w.actual.set(layout.ip('t:n', 0x0a000009), 'ghost');
    w.actual.delete(layout.mac('02:00:00:00:00:01'));
    const d = diffAllocations(w);
    assert.deepEqual(
      d.leaked.map((f) => f.key),
      [layout.ip('t:n', 0x0a000009)],
    );
    assert.deepEqual(
      d.missing.map((f) => f.key),
      [layout.mac('02:00:00:00:00:01')],
    );
  });
  it('expects the allocated tag of a network created without one (config pktTag 0, the tag in its oper)', () => {
    const w = world();
    w.networks = [{ key: 't:n', config: { ...nw, pktTag: 0 }, oper: { pktTag: 7 } }];
    assert.deepEqual(diffAllocations(w), { leaked: [], missing: [] });
    w.actual.delete(layout.tag('vlan', 7));
    assert.deepEqual(
      diffAllocations(w).missing.map((f) => [f.key, f.value]),
      [[layout.tag('vlan', 7), 't:n']],
    );
  });
  it('reports an address held by the wrong endpoint and an endpoint of a missing network', () => {
    const w = world();
    w.actual.set(layout.ip('t:n', 0x0a000005), 'e2');
    w.endpoints.push({ ...ep, endpointID: 'e9', network: 't:gone' });
    const d = diffAllocations(w);
    assert.ok(d.leaked.some((f) => f.key === layout.ip('t:n', 0x0a000005) && /belongs to address of endpoint e1/.test(f.reason)));
    assert.ok(d.leaked.some((f) => f.key === layout.ep('e9')));
  });
});

describe('netmaster claims in flight', () => {
  it('never offers a number being claimed, and cursors only move forward', () => {
    const c = new Claims();
    assert.equal(c.nextAtCursor('p', [[1, 10]]), undefined, 'no cursor yet');
    c.advance('p', 3);
    c.claim('p', 3);
    c.claim('p', 4);
    assert.equal(c.nextAtCursor('p', [[1, 10]]), 5);
    assert.ok(![3, 4].includes(c.choose('p', [3, 4, 7]) ?? 3));
    c.advance('p', 2);
    assert.equal(c.cursor('p'), 3, 'an out-of-order commit does not move the cursor back');
    c.advance('p', 1, 1);
    assert.equal(c.cursor('p'), 1, 'a wrap does');
    c.unclaim('p', 3);
    c.unclaim('p', 4);
    assert.equal(c.choose('p', [6, 7]), 6, 'lowest free when nothing is in flight');
    assert.equal(c.nextAtCursor('p', [[5, 10]]), undefined, 'cursor outside the ranges');
  });
});
