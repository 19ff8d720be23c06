/**
 * Issue 21 end to end: etcd (its own member, ports 27650/27651), netmaster with the ACI gateway
 * (leader) and the APIC stand-in over real HTTP. The reference intent written over REST
 * converges to the hand-written tree; a rule added touches only its contract objects; bad input
 * is a 4xx with nothing sent; a 503 spell, an expired token, a stand-in restart (state kept) and a
 * netmaster restart all converge without duplicates, inspect saying what was happening; an
 * object made by hand survives every sync.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { createLogger } from '../../../lib/logger';
import { OWNER_ANNOTATION } from '../../../netmaster/aci/mo';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { startApicStandin, type RunningApicStandin } from '../../../tools/apic-standin/server';
import {
  REF_APP_PROFILES,
  REF_EXPECTED,
  REF_EXT_CONTRACTS,
  REF_GROUPS,
  REF_GROUP_VLANS,
  REF_GW,
  REF_NETWORKS,
  REF_RULES,
  REF_VLANS,
} from '../../support/aci-reference';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { call } from '../netmaster/support';

const DIR = '/tmp/nl-ac-aci';
const NETCTL = resolve(__dirname, '../../../../bin/netctl');

describe('ACI gateway: netmaster + etcd + the APIC stand-in', function () {
  this.timeout(120_000);
  let etcd: EtcdFixture | undefined;
  let nm: RunningNetmaster | undefined;
  let apic: RunningApicStandin | undefined;
  let api = '';

  const startApic = async (port = 0) =>
    startApicStandin({ user: 'admin', password: 'ac-secret', statePath: `${DIR}/apic-state.json`, port, tokenLifetimeSeconds: 600 });
  const startNm = async () => {
    nm = await startNetmaster({
      etcdEndpoints: [etcd!.endpoint],
      logger: createLogger('nm', { level: 'silent' }),
      agent: {
        grpcListen: '127.0.0.1:0',
        agentLeaseTtlSeconds: 10,
        deadHostGraceMs: 60_000,
        leaderLeaseTtlSeconds: 2,
        replicaId: 'ac-aci-r1',
        apic: { url: apic!.url, user: 'admin', password: 'ac-secret' },
      },
    });
    api = `${nm.url}/api/v1`;
  };

  before(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    writeFileSync(`${DIR}/pw`, 'ac-secret');
    etcd = await startTestEtcd('ac-aci', 27650);
    apic = await startApic();
    await startNm();
  });

  after(async () => {
    await nm?.stop();
    await apic?.close();
    await etcd?.stop();
    rmSync(DIR, { recursive: true, force: true });
  });

  async function ok(path: string, body: unknown): Promise<void> {
    const r = await call('POST', `${api}${path}`, body);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
  }

  const held = (tenant: string) =>
    apic!
      .mit()
      .dump()
      .filter((o) => o.dn === `uni/tn-${tenant}` || o.dn.startsWith(`uni/tn-${tenant}/`))
      .filter((o) => o.attrs.annotation === OWNER_ANNOTATION)
      .map((o) => [o.dn, o.cls, o.attrs] as const)
      .sort((a, b) => a[0].localeCompare(b[0]));
  const expected = (tenant: string) =>
    (REF_EXPECTED[tenant] ?? [])
      .map(([dn, cls, attrs]) => [dn, cls, { ...attrs, annotation: OWNER_ANNOTATION }] as const)
      .sort((a, b) => a[0].localeCompare(b[0]));
  const matches = (tenant: string) => JSON.stringify(held(tenant)) === JSON.stringify(expected(tenant));
  const inspectGw = async () =>
    (await call('GET', `${api}/inspect/aciGws/aciGw/`)).json.Oper.aci as {
      gateway: string;
      tenants: Record<string, { state: string; message?: string }>;
    };
  const allInSync = async () => {
    const v = await inspectGw();
    return v && Object.keys(v.tenants).length === 2 && Object.values(v.tenants).every((t) => t.state === 'in sync') ? v : undefined;
  };
  const converged = (what: string) =>
    waitFor(what, async () => matches('acA') && matches('acB') && (await allInSync()), { timeoutMs: 30_000, intervalMs: 100 });
  const mutating = () => apic!.calls.filter((c) => c.method !== 'GET' && !c.path.startsWith('/api/aaa'));

  it('the reference intent written over REST converges to the hand-written tree; inspect says in sync', async () => {
    await ok('/globals/global/', { name: 'global', networkInfraType: 'aci', vlans: REF_VLANS });
    await ok('/aciGws/aciGw/', REF_GW);
    for (const t of ['acA', 'acB']) await ok(`/tenants/${t}/`, { tenantName: t });
    for (const n of REF_NETWORKS) await ok(`/networks/${n.tenantName}:${n.networkName}/`, n);
    for (const p of ['web-pol', 'db-pol']) await ok(`/policys/acA:${p}/`, { tenantName: 'acA', policyName: p });
    await ok('/policys/acB:back-pol/', { tenantName: 'acB', policyName: 'back-pol' });
    for (const c of REF_EXT_CONTRACTS) await ok(`/extContractsGroups/${c.tenantName}:${c.contractsGroupName}/`, c);
    for (const g of REF_GROUPS) await ok(`/endpointGroups/${g.tenantName}:${g.groupName}/`, g);
    // each group took a VLAN of its own from the pool the networks use (their 101, 102 passed over)
    for (const [key, vlan] of Object.entries(REF_GROUP_VLANS))
      assert.equal((await call('GET', `${api}/inspect/endpointGroups/${key}/`)).json.Oper.pktTag, vlan, key);
    const grp = await run(NETCTL, ['--netmaster', nm!.url, 'group', 'inspect', '-t', 'acB', 'back'], {
      env: { ...process.env, NETMASTER: '' },
    });
    assert.equal((JSON.parse(grp.stdout) as { Oper: { pktTag: number } }).Oper.pktTag, REF_GROUP_VLANS['acB:back']);
    for (const r of REF_RULES) await ok(`/rules/${r.tenantName}:${r.policyName}:${r.ruleId}/`, r);
    for (const a of REF_APP_PROFILES) await ok(`/appProfiles/${a.tenantName}:${a.appProfileName}/`, a);
    await converged('the reference tree on the stand-in');
    // netctl shows the same per-tenant state
    const shown = await run(NETCTL, ['--netmaster', nm!.url, 'aci-gw', 'inspect'], { env: { ...process.env, NETMASTER: '' } });
    const oper = (JSON.parse(shown.stdout) as { Oper: { aci: { tenants: Record<string, { state: string }> } } }).Oper.aci;
    assert.deepEqual(Object.fromEntries(Object.entries(oper.tenants).map(([t, v]) => [t, v.state])), { acA: 'in sync', acB: 'in sync' });
    // the app profile's inspect names its tenant's sync; the metrics count the tenants by state
    const ap = (await call('GET', `${api}/inspect/appProfiles/acA:app1/`)).json.Oper.aciSync as { state: string };
    assert.equal(ap.state, 'in sync');
    const metrics = (await call('GET', `${nm!.url}/metrics`)).text;
    assert.match(metrics, /netloom_aci_tenants\{state="in sync"\} 2/);
    assert.match(metrics, /netloom_aci_objects_sent_total\{op="post"\} [1-9]/);
    // a hand-made object under a netloom EPG, to survive everything below
    apic!.mit().post('uni/tn-acA/ap-app1/epg-web', {
      fvAEPg: { attributes: {}, children: [{ fvRsCons: { attributes: { tnVzBrCPName: 'by-hand' } } }] },
    });
  });

  it('bad input is a 4xx naming the field, and nothing reaches the APIC', async () => {
    apic!.clearCalls();
    const refused = async (path: string, body: unknown, field: string) => {
      const r = await call('POST', `${api}${path}`, body);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${r.text}`);
      assert.equal(r.json.field, field, r.text);
    };
    await refused(
      '/rules/acA:db-pol:7/',
      { ...REF_RULES[0], ruleId: '7', fromEndpointGroup: '', fromIpAddress: '10.9.9.9' },
      'fromIpAddress',
    );
    await refused('/rules/acA:db-pol:8/', { ...REF_RULES[0], ruleId: '8', action: 'deny' }, 'action');
    await refused('/aciGws/aciGw/', { ...REF_GW, pathBindings: '', nodeBindings: '', physicalDomain: '' }, 'physicalDomain');
    await refused('/aciGws/aciGw/', { ...REF_GW, pathBindings: 'topology/pod-1/eth1/1' }, 'pathBindings');
    assert.deepEqual(mutating(), []);
  });

  it('a rule added touches only its filter, entry, contract and the EPGs relations to it', async () => {
    apic!.clearCalls();
    await ok('/rules/acA:db-pol:3/', { ...REF_RULES[0], ruleId: '3', port: 8080 });
    await waitFor('the new contract', () => apic!.mit().get('uni/tn-acA/ap-app1/epg-web/rscons-db-pol-3'), { timeoutMs: 20_000 });
    assert.deepEqual(
      mutating()
        .map((c) => `${c.method} ${c.dn}`)
        .sort(),
      [
        'POST uni/tn-acA/ap-app1/epg-db/rsprov-db-pol-3',
        'POST uni/tn-acA/ap-app1/epg-web/rscons-db-pol-3',
        'POST uni/tn-acA/brc-db-pol-3',
        'POST uni/tn-acA/flt-db-pol-3',
      ],
    );
    apic!.clearCalls();
    assert.equal((await call('DELETE', `${api}/rules/acA:db-pol:3/`)).status, 200);
    await converged('the rule gone again');
    assert.ok(
      mutating().every((c) => c.method === 'DELETE' && /(brc|flt|rsprov|rscons)-db-pol-3$/.test(c.dn ?? '')),
      JSON.stringify(mutating()),
    );
  });

  it('a 503 spell shows as pending with the APIC message in inspect, then converges', async () => {
    apic!.faults.set({ forMs: 9000 });
    await ok('/rules/acB:back-pol:2/', { ...REF_RULES[3], ruleId: '2', protocol: 'udp', port: 53 });
    const pending = await waitFor(
      'pending in inspect',
      async () => {
        // whichever tenant's sync ran out of retries first
        return Object.values((await inspectGw()).tenants).find((t) => t.state === 'pending' && /503/.test(t.message ?? ''));
      },
      { timeoutMs: 30_000 },
    );
    assert.match(pending.message ?? '', /Service Unavailable/);
    await waitFor('the new contract after the spell', () => apic!.mit().get('uni/tn-acB/brc-back-pol-2'), { timeoutMs: 40_000 });
    assert.equal((await call('DELETE', `${api}/rules/acB:back-pol:2/`)).status, 200);
    await converged('back to the reference');
  });

  it('an expired token, a restarted stand-in (state kept) and a restarted netmaster converge without duplicates', async () => {
    apic!.sessions.expireAll();
    await ok('/rules/acA:db-pol:4/', { ...REF_RULES[0], ruleId: '4', port: 4444 });
    await waitFor('the contract after re-login', () => apic!.mit().get('uni/tn-acA/brc-db-pol-4'), { timeoutMs: 20_000 });
    assert.ok(
      apic!.calls.some((c) => c.status === 403),
      'the old token was refused',
    );
    const port = apic!.port;
    await apic!.close();
    apic = await startApic(port);
    assert.ok(apic.mit().get('uni/tn-acA/brc-db-pol-4'), 'the stand-in kept its tree');
    assert.equal((await call('DELETE', `${api}/rules/acA:db-pol:4/`)).status, 200);
    await converged('after the stand-in restart');
    await nm!.stop();
    nm = undefined;
    apic.clearCalls();
    await startNm();
    await converged('after the netmaster restart');
    assert.deepEqual(mutating(), [], 'a new netmaster sends nothing for a tree already right');
    assert.ok(apic.mit().get('uni/tn-acA/ap-app1/epg-web/rscons-by-hand'), 'the hand-made object survived');
    // no duplicates: every owned object is exactly the expected set
    assert.deepEqual(held('acA'), expected('acA'));
  });

  it('leaving aci and coming back: the groups get VLANs afresh and only the EPG bindings follow, no EPG deleted', async () => {
    const before = apic!.mit().dump().length;
    await ok('/globals/global/', { name: 'global', networkInfraType: 'default', vlans: REF_VLANS });
    const vlanOf = async (key: string) => (await call('GET', `${api}/inspect/endpointGroups/${key}/`)).json.Oper.pktTag as number;
    // outside ACI mode each group shows its network's VLAN again (the leader gave theirs back)
    await waitFor('group VLANs given back', async () => (await vlanOf('acB:front')) === 201 && (await vlanOf('acB:back')) === 201, {
      timeoutMs: 20_000,
    });
    assert.equal(apic!.mit().dump().length, before, 'nothing sent to the APIC outside ACI mode');
    apic!.clearCalls();
    await ok('/globals/global/', { name: 'global', networkInfraType: 'aci', vlans: REF_VLANS });
    const groups = Object.keys(REF_GROUP_VLANS);
    const owned = async () => {
      const tags = await Promise.all(groups.map(vlanOf));
      return tags.every((t) => ![101, 102, 201].includes(t)) ? tags : undefined;
    };
    const tags = await waitFor('each group a VLAN of its own again', owned, { timeoutMs: 20_000 });
    assert.equal(new Set(tags).size, groups.length);
    // the tree: each EPG's bindings carry the VLAN read back from its group
    await waitFor(
      'the bindings follow the new VLANs',
      async () =>
        (await allInSync()) &&
        groups.every((key, i) => {
          const [tenant, name] = key.split(':');
          const ap = tenant === 'acA' ? 'app1' : 'app2';
          const epg = `uni/tn-${tenant}/ap-${ap}/epg-${name}`;
          return apic!
            .mit()
            .dump()
            .filter((o) => o.dn.startsWith(`${epg}/rspathAtt-`) || o.dn.startsWith(`${epg}/rsnodeAtt-`))
            .every((o) => o.attrs.encap === `vlan-${tags[i]}`);
        }),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const changed = mutating().map((c) => `${c.method} ${c.dn}`);
    assert.ok(changed.length > 0);
    assert.ok(
      changed.every((c) => /^POST .*\/rs(path|node)Att-\[/.test(c)),
      `only bindings were sent: ${changed.join(', ')}`,
    );
    assert.ok(apic!.mit().get('uni/tn-acA/ap-app1/epg-web/rscons-by-hand'), 'the hand-made object survived');
  });
});
