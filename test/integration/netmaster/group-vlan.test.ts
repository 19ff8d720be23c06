/**
 * Issue 21, a VLAN per group in ACI mode, on a real etcd (its own member, ports 27720/27721) and
 * netmaster over REST: a group of a VLAN network created in ACI mode takes the lowest free VLAN of
 * the pool the networks use, in its own commit (shown as its inspect's pktTag); a network may not
 * be given a group's VLAN and is never handed one; the pool running out refuses the group with
 * nothing written; deleting the group gives its VLAN back; the leader gives every existing group
 * one when the mode becomes aci (also a leader that starts after the change; a group updated
 * meanwhile takes its own) and takes them back when it leaves; the consistency check is clean throughout and sees a stray VLAN key.
 */
import assert from 'node:assert/strict';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { call } from './support';

describe('netmaster: a VLAN of its own per group in ACI mode (etcd + REST + the leader)', function () {
  this.timeout(90_000);
  let etcd: EtcdFixture | undefined;
  let nm: RunningNetmaster | undefined;
  let api = '';

  const start = async (leader: boolean) => {
    nm = await startNetmaster({
      etcdEndpoints: [etcd!.endpoint],
      logger: createLogger('nm', { level: 'silent' }),
      ...(leader
        ? {
            agent: {
              grpcListen: '127.0.0.1:0',
              agentLeaseTtlSeconds: 10,
              deadHostGraceMs: 60_000,
              leaderLeaseTtlSeconds: 2,
              replicaId: 'ac-gvlan-r1',
            },
          }
        : {}),
    });
    api = `${nm.url}/api/v1`;
  };

  before(async () => {
    etcd = await startTestEtcd('ac-gvlan', 27720);
    await start(true);
  });

  after(async () => {
    await nm?.stop();
    await etcd?.stop();
  });

  async function ok(path: string, body: unknown): Promise<void> {
    const r = await call('POST', `${api}${path}`, body);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
  }
  const global = (networkInfraType: string, vlans: string) => ok('/globals/global/', { name: 'global', networkInfraType, vlans });
  const group = (name: string, networkName: string) =>
    call('POST', `${api}/endpointGroups/gv:${name}/`, { tenantName: 'gv', groupName: name, networkName });
  const pktTag = async (name: string) => (await call('GET', `${api}/inspect/endpointGroups/gv:${name}/`)).json.Oper.pktTag as number;
  const vlanKey = async (n: number) => (await nm!.service.kv.get(layout.tag('vlan', n)))?.value;
  const consistent = async () => {
    const r = (await call('GET', `${api}/consistency`)).json as { clean: boolean; leaked: unknown[]; missing: unknown[] };
    assert.equal(r.clean, true, JSON.stringify(r));
  };

  it('in ACI mode a group of a VLAN network takes the lowest free VLAN of the shared pool; a VXLAN one none', async () => {
    await global('aci', '200-210');
    await ok('/tenants/gv/', { tenantName: 'gv' });
    await ok('/networks/gv:n1/', { tenantName: 'gv', networkName: 'n1', encap: 'vlan', pktTag: 200, subnet: '10.61.1.0/24' });
    await ok('/networks/gv:nx/', { tenantName: 'gv', networkName: 'nx', encap: 'vxlan', pktTag: 6100, subnet: '10.61.2.0/24' });
    for (const g of ['g1', 'g2']) assert.equal((await group(g, 'n1')).status, 200);
    assert.equal((await group('gx', 'nx')).status, 200);
    assert.deepEqual([await pktTag('g1'), await pktTag('g2')], [201, 202], 'the network holds 200');
    assert.equal(await pktTag('gx'), 6100, "a VXLAN network's group shows its network's tag");
    assert.deepEqual([await vlanKey(201), await vlanKey(202)], ['gv:g1', 'gv:g2'], 'the allocation keys are owned by the groups');
    const g = (await call('GET', `${api}/inspect/globals/global/`)).json.Oper as { vlansInUse: string; freeVLANs: number };
    assert.deepEqual([g.vlansInUse, g.freeVLANs], ['200-202', 8]);
    await consistent();
  });

  it("a network may not take a group's VLAN, and a network's allocation passes over them", async () => {
    const r = await call('POST', `${api}/networks/gv:n2/`, {
      tenantName: 'gv',
      networkName: 'n2',
      encap: 'vlan',
      pktTag: 201,
      subnet: '10.61.3.0/24',
    });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.field, 'pktTag');
    assert.match(r.json.error, /vlan 201 is already used by network or endpoint group gv:g1/);
    await ok('/networks/gv:n2/', { tenantName: 'gv', networkName: 'n2', encap: 'vlan', subnet: '10.61.3.0/24' });
    assert.equal((await call('GET', `${api}/inspect/networks/gv:n2/`)).json.Oper.pktTag, 203);
    const shrink = await call('POST', `${api}/globals/global/`, { name: 'global', networkInfraType: 'aci', vlans: '200-201,203' });
    assert.equal(shrink.status, 409, shrink.text);
    assert.match(shrink.json.error, /leaves out vlan 202 used by endpoint group gv:g2/);
    await consistent();
  });

  it('the pool running out refuses the group naming the range, with nothing written', async () => {
    await global('aci', '200-204');
    assert.equal((await group('g3', 'n1')).status, 200);
    assert.equal(await pktTag('g3'), 204);
    const r = await group('g4', 'n1');
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'EXHAUSTED');
    assert.match(r.json.error, /no free VLAN in 200-204 for endpoint group gv:g4/);
    assert.equal((await call('GET', `${api}/endpointGroups/gv:g4/`)).status, 404);
    await consistent();
  });

  it('deleting a group gives its VLAN back: a network may then be given it', async () => {
    assert.equal((await call('DELETE', `${api}/endpointGroups/gv:g3/`)).status, 200);
    assert.equal(await vlanKey(204), undefined);
    await ok('/networks/gv:n3/', { tenantName: 'gv', networkName: 'n3', encap: 'vlan', pktTag: 204, subnet: '10.61.4.0/24' });
    await consistent();
  });

  it('leaving aci: the leader takes every group VLAN back (the groups show their network VLAN); back to aci: each gets one', async () => {
    await global('default', '200-210');
    await waitFor('group VLANs released', async () => (await pktTag('g1')) === 200 && (await pktTag('g2')) === 200, {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    assert.deepEqual([await vlanKey(201), await vlanKey(202)], [undefined, undefined]);
    await consistent();
    // a group created outside ACI mode takes none
    assert.equal((await group('g5', 'n1')).status, 200);
    assert.equal(await pktTag('g5'), 200);
    await global('aci', '200-210');
    const owned = async () => Promise.all(['g1', 'g2', 'g5'].map(pktTag));
    await waitFor('group VLANs allocated', async () => (await owned()).every((t) => t !== 200), { timeoutMs: 20_000, intervalMs: 100 });
    const tags = await owned();
    assert.equal(new Set(tags).size, 3);
    for (const t of tags) assert.ok(t >= 201 && t <= 210 && ![203, 204].includes(t), `VLAN ${t}: free in the pool, not a network's`);
    await consistent();
  });

  it('a leader that starts after the mode became aci gives the groups theirs; a stray VLAN key is reported', async () => {
    await global('default', '200-210');
    await waitFor('released', async () => (await pktTag('g1')) === 200, { timeoutMs: 20_000, intervalMs: 100 });
    await nm!.stop();
    await start(false); // no agent side: no leader
    await global('aci', '200-210');
    assert.equal(await pktTag('g1'), 200, 'nothing allocates without a leader');
    // but a group written in ACI mode takes its VLAN in its own commit, leader or not
    assert.equal((await group('g2', 'n1')).status, 200);
    assert.notEqual(await pktTag('g2'), 200);
    await nm!.stop();
    await start(true);
    await waitFor('allocated by the new leader', async () => (await pktTag('g1')) !== 200 && (await pktTag('g5')) !== 200, {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    await consistent();
    await nm!.service.kv.commit([], [{ kind: 'put', key: layout.tag('vlan', 209), value: 'gv:ghost' }]);
    const r = (await call('GET', `${api}/consistency`)).json as { leaked: Array<{ key: string }> };
    assert.deepEqual(
      r.leaked.map((f) => f.key),
      [layout.tag('vlan', 209)],
    );
  });
});
