/**
 * Kinds without checks of their own (tenant, policy, app profile, contracts group, aciGw) are
 * checked from their declaration: their tenant exists and every object their references name
 * exists, with the exact messages and fields, reading only those keys.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { parseObject } from '../../../netmaster/model/keys';
import type { ObjectType } from '../../../netmaster/model/schemas';
import { checkUpsert, needsForUpsert } from '../../../netmaster/model/validate';
import { baseWorld, loadFromWorld } from './world';

function outcome(type: ObjectType, body: unknown): string {
  const obj = parseObject(type, body);
  try {
    checkUpsert(type, obj, loadFromWorld(baseWorld(), needsForUpsert(type, obj)));
  } catch (e) {
    assert.ok(e instanceof NetloomError);
    return `${e.code} ${e.field ?? '-'} ${e.message}`;
  }
  return 'ok';
}

describe('netmaster upsert checks from declared references', () => {
  it('app profile: its tenant, then each named group, must exist', () => {
    assert.equal(
      outcome('appProfile', { tenantName: 'tx', appProfileName: 'a', endpointGroups: ['g1'] }),
      'NOT_FOUND tenantName tenant tx does not exist',
    );
    assert.equal(
      outcome('appProfile', { tenantName: 't1', appProfileName: 'a', endpointGroups: ['g1', 'gx'] }),
      'NOT_FOUND endpointGroups endpoint group t1:gx does not exist',
    );
    assert.equal(outcome('appProfile', { tenantName: 't1', appProfileName: 'a', endpointGroups: ['g1', 'g2'] }), 'ok');
  });

  it('reads the object, its tenant and each named object once', () => {
    const obj = parseObject('appProfile', { tenantName: 't1', appProfileName: 'a', endpointGroups: ['g1', 'g2', 'g1'] });
    assert.deepEqual(
      needsForUpsert('appProfile', obj).keys.map((k) => `${k.type} ${k.key}`),
      ['appProfile t1:a', 'tenant t1', 'endpointGroup t1:g1', 'endpointGroup t1:g2'],
    );
  });

  it('policy and contracts group need their tenant; tenant and aciGw need nothing', () => {
    assert.equal(outcome('policy', { tenantName: 'tx', policyName: 'p' }), 'NOT_FOUND tenantName tenant tx does not exist');
    assert.equal(
      outcome('extContractsGroup', { tenantName: 'tx', contractsGroupName: 'c', contractsType: 'provided' }),
      'NOT_FOUND tenantName tenant tx does not exist',
    );
    assert.equal(outcome('tenant', { tenantName: 'new' }), 'ok');
    assert.equal(outcome('aciGw', {}), 'ok');
  });
});
