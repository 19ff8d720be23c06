import assert from 'node:assert/strict';
import { OfBundleError, bundleFailure, bundleFlags, planBundle } from '../../../../ovs/openflow/connection-bundle';
import { ONF_EXPERIMENTER_ID, OFPET_EXPERIMENTER } from '../../../../ovs/openflow/connection-wire';
import { isNetloomError } from '../../../../lib/errors';

describe('bundle plan and result mapping', () => {
  let n = 100;
  const next = (): number => ++n;

  it('gives open, every message, barrier, commit and discard distinct xids in order', () => {
    n = 100;
    const p = planBundle(3, 7, next);
    assert.equal(p.bundleId, 7);
    assert.equal(p.openXid, 101);
    assert.deepEqual(p.addXids, [102, 103, 104]);
    assert.deepEqual([p.barrierXid, p.commitXid, p.discardXid], [105, 106, 107]);
    assert.throws(
      () => planBundle(0, 1, next),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'msgs',
    );
  });

  it('no errors means no failure', () => {
    assert.equal(bundleFailure(planBundle(2, 1, next), [], 'commit'), undefined);
  });

  it('maps the error of a message to its index, ahead of the bundle-level error that follows it', () => {
    n = 0;
    const p = planBundle(5, 1, next); // adds 2..6, commit 8
    const f = bundleFailure(
      p,
      [
        { xid: 5, fields: { type: 5, code: 1, data: Buffer.alloc(0) } }, // message 3: TABLE_FULL
        { xid: 8, fields: { type: OFPET_EXPERIMENTER, code: 2313, experimenter: ONF_EXPERIMENTER_ID, data: Buffer.alloc(0) } },
      ],
      'commit',
    );
    assert.ok(f);
    assert.equal(f.index, 3);
    assert.equal(f.phase, 'commit');
    assert.equal(`${f.error.typeName}/${f.error.codeName}`, 'FLOW_MOD_FAILED/TABLE_FULL');
    assert.deepEqual(
      f.errors.map((e) => `${e.typeName}/${e.codeName}`),
      ['FLOW_MOD_FAILED/TABLE_FULL', 'BUNDLE_FAILED/MSG_FAILED'],
    );
    const err = new OfBundleError(f);
    assert.equal(err.field, 'msgs[3]');
    assert.match(err.message, /message 3 rejected with FLOW_MOD_FAILED\/TABLE_FULL/);
  });

  it('an error of the bundle itself (say at open) has no index', () => {
    n = 0;
    const p = planBundle(2, 9, next);
    const f = bundleFailure(
      p,
      [{ xid: p.openXid, fields: { type: OFPET_EXPERIMENTER, code: 2305, experimenter: ONF_EXPERIMENTER_ID, data: Buffer.alloc(0) } }],
      'open',
    );
    assert.equal(f?.index, undefined);
    assert.equal(f?.error.codeName, 'OUT_OF_BUNDLES');
    assert.equal(new OfBundleError(f as NonNullable<typeof f>).field, 'msgs');
  });

  it('flags default to atomic and ordered', () => {
    assert.equal(bundleFlags({}), 3);
    assert.equal(bundleFlags({ ordered: false }), 1);
    assert.equal(bundleFlags({ atomic: false, ordered: false }), 0);
  });
});
