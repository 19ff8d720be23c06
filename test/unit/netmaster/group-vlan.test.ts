/**
 * A group's VLAN of its own in ACI mode (model/group-tag.ts), its pure parts: when a group takes
 * or gives back one, the leader's plan when the fabric mode changes, the checks that keep the
 * shared VLAN pool whole (a network's given VLAN held by a group, a global range leaving out a
 * group's VLAN), the stored record's check and the consistency check's view of the allocation.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { groupTagChange, groupTagOf, groupTagRecordProblem, wantsOwnTag } from '../../../netmaster/model/group-tag';
import { missingGroupTagReason, vlanPoolUse } from '../../../netmaster/model/vlan-pool';
import { parseObject } from '../../../netmaster/model/keys';
import { checkUpsert, needsForUpsert } from '../../../netmaster/model/validate';
import type { EndpointGroup, Network, ObjectType } from '../../../netmaster/model/schemas';
import { diffAllocations, type AllocationWorld } from '../../../netmaster/service/consistency';
import { groupVlanChanges } from '../../../netmaster/service/group-vlan-sync';
import { layout } from '../../../netmaster/store/layout';
import { BadStoredValue, checkIntent } from '../../../netmaster/store/stored-values';
import { baseWorld, loadFromWorld, type World } from './world';

function upsert(type: ObjectType, body: unknown, world: World) {
  const obj = parseObject(type, body);
  return checkUpsert(type, obj, loadFromWorld(world, needsForUpsert(type, obj)));
}

function refused(fn: () => unknown, code: string, field: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NetloomError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const aci = { networkInfraType: 'aci' } as const;
const plain = { networkInfraType: 'default' } as const;
const vlanNet = { encap: 'vlan' } as const;
const vxlanNet = { encap: 'vxlan' } as const;

describe('a group VLAN of its own (ACI mode)', () => {
  it('only a group of a VLAN network in ACI mode wants one (VXLAN and routed networks never)', () => {
    assert.equal(wantsOwnTag(aci, vlanNet), true);
    assert.equal(wantsOwnTag(aci, vxlanNet), false);
    assert.equal(wantsOwnTag(aci, { encap: 'bgp' }), false);
    assert.equal(wantsOwnTag(aci, undefined), false);
    assert.equal(wantsOwnTag(plain, vlanNet), false);
  });

  it('takes one when wanted and none held, gives it back when held and not wanted, else nothing', () => {
    assert.equal(groupTagChange(true, undefined), 'allocate');
    assert.equal(groupTagChange(true, 7), undefined);
    assert.equal(groupTagChange(false, 7), 'release');
    assert.equal(groupTagChange(false, undefined), undefined);
  });

  it('reads the held VLAN from the stored oper only when it is a positive whole number', () => {
    assert.equal(groupTagOf({ groupId: 3, pktTag: 12 }), 12);
    assert.equal(groupTagOf({ groupId: 3 }), undefined);
    assert.equal(groupTagOf({ pktTag: 0 }), undefined);
    assert.equal(groupTagOf(undefined), undefined);
  });

  it('a stored group whose oper.pktTag is no VLAN is a bad value, not served', () => {
    assert.equal(groupTagRecordProblem({ pktTag: 4094 }), undefined);
    assert.match(groupTagRecordProblem({ pktTag: 4095 }) ?? '', /oper.pktTag: must be a VLAN 1..4094/);
    assert.match(groupTagRecordProblem({ pktTag: 'x' }) ?? '', /oper.pktTag/);
    const cfg = {
      tenantName: 't',
      groupName: 'g',
      networkName: 'n',
      ipPool: '',
      policies: [],
      netProfile: '',
      extContractsGrps: [],
      cfgdTag: '',
    };
    assert.equal(checkIntent('endpointGroup', 't:g', JSON.stringify({ config: cfg, oper: { groupId: 1, pktTag: 300 } })).oper.pktTag, 300);
    assert.throws(
      () => checkIntent('endpointGroup', 't:g', JSON.stringify({ config: cfg, oper: { groupId: 1, pktTag: 5000 } })),
      (e: unknown) => e instanceof BadStoredValue && /oper.pktTag/.test(e.reason),
    );
  });
});

describe("the leader's plan when the fabric mode changes", () => {
  const networks = [
    { key: 't:v', config: vlanNet },
    { key: 't:x', config: vxlanNet },
  ];
  const group = (name: string, network: string, oper: Record<string, unknown>) => ({
    key: `t:${name}`,
    config: { tenantName: 't', networkName: network },
    oper,
  });
  const groups = [group('a', 'v', { groupId: 1 }), group('b', 'v', { groupId: 2, pktTag: 40 }), group('c', 'x', { groupId: 3 })];

  it('becoming aci: every group of a VLAN network without one takes one; VXLAN groups and holders are left alone', () => {
    assert.deepEqual(groupVlanChanges(aci, networks, groups), [{ key: 't:a', change: 'allocate' }]);
  });

  it('leaving aci: every holder gives its one back', () => {
    assert.deepEqual(groupVlanChanges(plain, networks, groups), [{ key: 't:b', change: 'release' }]);
  });

  it('a group of a VXLAN network holding one (the record says so) gives it back even in ACI mode', () => {
    assert.deepEqual(groupVlanChanges(aci, networks, [group('c', 'x', { groupId: 3, pktTag: 41 })]), [{ key: 't:c', change: 'release' }]);
  });

  it('nothing to do once every group is as the mode wants: the plan is idempotent', () => {
    assert.deepEqual(groupVlanChanges(aci, networks, [groups[1]!, groups[2]!]), []);
    assert.deepEqual(groupVlanChanges(plain, networks, [groups[0]!, groups[2]!]), []);
  });
});

describe('the VLAN pool shared by networks and groups: checks', () => {
  const aciWorld = (): World => {
    const w = baseWorld();
    w.global = [{ ...w.global![0]!, networkInfraType: 'aci', vlans: '1-100' }];
    w.endpointGroup = [
      ...(w.endpointGroup ?? []),
      { tenantName: 't1', groupName: 'gv', networkName: 'n2', ipPool: '', policies: [], netProfile: '', extContractsGrps: [], cfgdTag: '' },
    ];
    w.opers = { 'endpointGroup/t1:gv': { groupId: 9, pktTag: 60 } };
    w.tagOwners = { ...w.tagOwners, 'vlan:60': 't1:gv' };
    return w;
  };
  const vlanNetwork = (pktTag: number) => ({
    tenantName: 't1',
    networkName: 'nv',
    encap: 'vlan',
    pktTag,
    subnet: '10.7.0.0/24',
    gateway: '10.7.0.1',
  });

  it('a network given a VLAN a group holds is refused naming pktTag and the holder', () => {
    refused(
      () => upsert('network', vlanNetwork(60), aciWorld()),
      'CONFLICT',
      'pktTag',
      /vlan 60 is already used by network or endpoint group t1:gv/,
    );
    assert.ok(upsert('network', vlanNetwork(61), aciWorld()));
  });

  it("a global VLAN range that leaves out a group's VLAN is refused naming vlans and the group", () => {
    const g = { ...aciWorld().global![0]!, vlans: '1-50' };
    refused(() => upsert('global', g, aciWorld()), 'CONFLICT', 'vlans', /vlans '1-50' leaves out vlan 60 used by endpoint group t1:gv/);
    assert.ok(upsert('global', { ...g, vlans: '1-60' }, aciWorld()));
  });

  it('a group create reads the global object (its mode decides the VLAN): declared, so the commit guards it', () => {
    const obj = parseObject('endpointGroup', { tenantName: 't1', groupName: 'g7', networkName: 'n2' });
    assert.ok(needsForUpsert('endpointGroup', obj).keys.some((k) => k.type === 'global' && k.key === 'global'));
  });
});

describe("the consistency check knows a group's VLAN", () => {
  const nw = { tenantName: 't', networkName: 'n', encap: 'vlan', pktTag: 7, subnet: '10.0.0.0/24', gateway: '' } as Network;
  const grp = { tenantName: 't', groupName: 'g', networkName: 'n' } as EndpointGroup;
  const world = (): AllocationWorld => ({
    networks: [{ key: 't:n', config: nw }],
    groups: [{ key: 't:g', config: grp, groupId: 1, pktTag: 8 }],
    endpoints: [],
    actual: new Map([
      [layout.tag('vlan', 7), 't:n'],
      [layout.groupId(1), 't:g'],
      [layout.tag('vlan', 8), 't:g'],
    ]),
  });

  it('is clean when the group holds the VLAN its oper names (no leak reported)', () => {
    assert.deepEqual(diffAllocations(world()), { leaked: [], missing: [] });
  });

  it('reports the VLAN key of a group that no longer names it as leaked', () => {
    const w = world();
    w.groups = [{ key: 't:g', config: grp, groupId: 1 }];
    assert.deepEqual(
      diffAllocations(w).leaked.map((f) => [f.key, f.value]),
      [[layout.tag('vlan', 8), 't:g']],
    );
  });

  it('reports a missing VLAN key, and one held by another owner', () => {
    const w = world();
    w.actual.delete(layout.tag('vlan', 8));
    assert.deepEqual(
      diffAllocations(w).missing.map((f) => [f.key, f.value, f.reason]),
      [[layout.tag('vlan', 8), 't:g', 'missing VLAN of endpoint group t:g']],
    );
    const w2 = world();
    w2.actual.set(layout.tag('vlan', 8), 't:other');
    assert.match(diffAllocations(w2).leaked[0]?.reason ?? '', /belongs to VLAN of endpoint group t:g/);
  });

  it("the shared pool: networks' and groups' VLANs held, the free ones counted; a group without one says why", () => {
    const net = (name: string, encap: 'vlan' | 'vxlan', pktTag: number, oper?: Record<string, unknown>) => ({
      config: { ...parseObject('network', { tenantName: 't', networkName: name, encap, pktTag, subnet: '10.9.0.0/24' }) } as Network,
      ...(oper ? { oper } : {}),
    });
    const nets = [net('a', 'vlan', 100), net('b', 'vlan', 0, { pktTag: 103 }), net('x', 'vxlan', 100)];
    const groups = [{ oper: { pktTag: 101 } }, { oper: {} }];
    const use = vlanPoolUse({ vlans: '100-104' }, nets, groups);
    assert.deepEqual(use, { held: [100, 101, 103], free: 2 });
    assert.match(missingGroupTagReason({ vlans: '100-104' }, use), /not allocated yet \(the leader does it\)/);
    const full = vlanPoolUse({ vlans: '100-101' }, nets, groups);
    assert.equal(full.free, 0);
    assert.match(missingGroupTagReason({ vlans: '100-101' }, full), /the VLAN pool 100-101 has none free .*widen the global vlans range/);
  });
});
