/**
 * The exact IN_USE messages of deletes and the order their checks run in (which one is reported
 * when several hold an object), now that they are derived from the kinds' declared references.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { checkDelete, needsForDelete } from '../../../netmaster/model/deletes';
import type { ObjectType } from '../../../netmaster/model/schemas';
import { baseWorld, loadFromWorld, type World } from './world';

function refusal(type: ObjectType, key: string, w: World): string {
  try {
    checkDelete(type, key, loadFromWorld(w, needsForDelete(type, key)));
  } catch (e) {
    assert.ok(e instanceof NetloomError);
    return `${e.code} ${e.message}`;
  }
  return 'allowed';
}

describe('netmaster delete checks: messages and order', () => {
  const world = (): World => {
    const w = baseWorld();
    w.serviceLB = [
      { tenantName: 't1', serviceName: 's1', networkName: 'n2', ipAddress: '', selectors: [], ports: [] },
      { tenantName: 't1', serviceName: 's2', networkName: '', ipAddress: '', selectors: [], ports: [] },
    ];
    w.appProfile = [{ tenantName: 't1', appProfileName: 'a1', endpointGroups: ['g1', 'g2'] }];
    w.endpointCounts = { ...w.endpointCounts, 'net:t1:n2': 4 };
    const rule = w.rule?.[0];
    if (rule) w.rule = [rule, { ...rule, ruleId: '2', fromEndpointGroup: '', fromNetwork: 'empty-net' }];
    return w;
  };

  it('names every kind a tenant still holds, in kind order', () => {
    assert.equal(
      refusal('tenant', 't1', world()),
      'IN_USE tenant t1 still holds 3 network(s), 2 endpointGroup(s), 2 policy(s), 1 netprofile(s), 1 appProfile(s), 2 serviceLB(s), 1 extContractsGroup(s): delete them first',
    );
  });

  it('reports a network’s groups, then its services, then its endpoints', () => {
    assert.equal(refusal('network', 't1:n1', world()), 'IN_USE network t1:n1 is used by endpoint group(s) g1, g2');
    assert.equal(refusal('network', 't1:n2', world()), 'IN_USE network t1:n2 is used by service(s) s1');
    const w = world();
    w.serviceLB = [];
    assert.equal(refusal('network', 't1:n2', w), 'IN_USE network t1:n2 has 4 endpoint(s)');
  });

  it('reports a group’s endpoints first, then rules, then app profiles', () => {
    assert.equal(refusal('endpointGroup', 't1:g1', world()), 'IN_USE endpoint group t1:g1 has 2 endpoint(s)');
    assert.equal(refusal('endpointGroup', 't1:g2', world()), 'IN_USE endpoint group t1:g2 is used by rule(s) p2:1');
    const w = world();
    w.rule = [];
    assert.equal(refusal('endpointGroup', 't1:g2', w), 'IN_USE endpoint group t1:g2 is used by app profile(s) a1');
  });

  it('lets a network go while a rule matches on it (as Contiv did)', () => {
    assert.equal(refusal('network', 't1:empty-net', world()), 'allowed');
  });

  it('names profiles, policies and contracts groups by their label', () => {
    assert.equal(refusal('netprofile', 't1:prof1', world()), 'IN_USE netprofile t1:prof1 is used by endpoint group(s) g1');
    assert.equal(refusal('policy', 't1:p1', world()), 'IN_USE policy t1:p1 is used by endpoint group(s) g1');
    assert.equal(
      refusal('extContractsGroup', 't1:ext1', world()),
      'IN_USE external contracts group t1:ext1 is used by endpoint group(s) g1',
    );
    assert.equal(refusal('policy', 't1:p2', world()), 'allowed');
  });

  it('refuses the global object and missing objects', () => {
    assert.equal(refusal('global', 'global', world()), 'CONFLICT the global object cannot be deleted; change it with a POST instead');
    assert.equal(refusal('serviceLB', 't1:nx', world()), 'NOT_FOUND serviceLB t1:nx does not exist');
    assert.equal(refusal('Bgp', 'h1', world()), 'NOT_FOUND Bgp h1 does not exist');
  });
});
