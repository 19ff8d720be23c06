/**
 * `up` refuses a lab whose name shares an address slot with a lab that is up (two names can hash
 * to one slot: tpub and tegr do), before it touches anything, naming the other lab.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetloomError } from '../../../lib/errors';
import { labUp } from '../../../deploy/lab/lab';
import { labIndex } from '../../../deploy/lab/plan';

describe('lab up: address slots', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'nl-lab-slot-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a name whose slot a lab that is up holds, and makes nothing', async () => {
    assert.equal(labIndex('tpub'), labIndex('tegr'), 'the two names share a slot');
    mkdirSync(join(root, 'tegr'));
    writeFileSync(join(root, 'tegr', 'state.json'), '{}');
    await assert.rejects(
      labUp({ name: 'tpub', hosts: 1, etcdMembers: 1, root }),
      (e: unknown) =>
        isNetloomError(e, 'CONFLICT') &&
        e.field === 'lab' &&
        /would use the addresses and ports of lab "tegr", which is up/.test(e.message),
    );
    assert.deepEqual(readdirSync(root), ['tegr'], 'no state for tpub was written');
  });
});
