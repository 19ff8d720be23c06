/**
 * Issue 21, signed requests and sync state on every replica: etcd (its own member, ports
 * 27680/27681), two netmaster replicas authenticating to the APIC stand-in with a user
 * certificate's key (no aaaLogin) over real HTTP. The reference intent converges; the replica that
 * does not lead shows the sync state (netctl aci-gw inspect, the group's and the app profile's
 * inspect); a certificate the APIC no longer holds is an error quoting the APIC in inspect on
 * both replicas, then in sync again once it does; the other replica takes over the gateway
 * without sending anything.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { createLogger } from '../../../lib/logger';
import { OWNER_ANNOTATION } from '../../../netmaster/aci/mo';
import type { TenantSync } from '../../../netmaster/aci/sync-status';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { startApicStandin, type RunningApicStandin } from '../../../tools/apic-standin/server';
import {
  REF_APP_PROFILES,
  REF_EXPECTED,
  REF_EXT_CONTRACTS,
  REF_GROUPS,
  REF_GW,
  REF_NETWORKS,
  REF_RULES,
  REF_VLANS,
} from '../../support/aci-reference';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { makeRsaUserCert } from '../../support/test-certs';
import { call } from '../netmaster/support';

const DIR = '/tmp/nl-ac-aci-rep';
const NETCTL = resolve(__dirname, '../../../../bin/netctl');
const CERT_DN = 'uni/userext/user-netloom/usercert-netloom';

interface AciView {
  gateway: string;
  replica?: string;
  tenants: Record<string, TenantSync>;
}

describe('ACI gateway: signed requests, sync state on every replica', function () {
  this.timeout(180_000);
  let etcd: EtcdFixture | undefined;
  const nms = new Map<string, RunningNetmaster>();
  let apic: RunningApicStandin | undefined;

  /** the stand-in holding `cert` as the user's registered certificate */
  const startApic = async (cert: string, port = 0) =>
    startApicStandin({
      user: 'netloom',
      password: 'unused-here',
      userCerts: { [CERT_DN]: readFileSync(`${DIR}/${cert}.crt`) },
      statePath: `${DIR}/apic-state.json`,
      port,
    });
  const startNm = async (id: string) => {
    nms.set(
      id,
      await startNetmaster({
        etcdEndpoints: [etcd!.endpoint],
        logger: createLogger('nm', { level: 'silent' }),
        agent: {
          grpcListen: '127.0.0.1:0',
          agentLeaseTtlSeconds: 10,
          deadHostGraceMs: 60_000,
          leaderLeaseTtlSeconds: 2,
          replicaId: id,
          apic: { url: apic!.url, certDn: CERT_DN, key: createPrivateKey(readFileSync(`${DIR}/netloom.key`)) },
        },
      }),
    );
  };
  const api = (id: string) => `${nms.get(id)!.url}/api/v1`;

  before(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await makeRsaUserCert(DIR, 'netloom');
    await makeRsaUserCert(DIR, 'rotated');
    etcd = await startTestEtcd('ac-aci-rep', 27680);
    apic = await startApic('netloom');
    await startNm('ac-rep-r1');
  });

  after(async () => {
    for (const nm of nms.values()) await nm.stop();
    await apic?.close();
    await etcd?.stop();
    rmSync(DIR, { recursive: true, force: true });
  });

  async function ok(path: string, body: unknown): Promise<void> {
    const r = await call('POST', `${api('ac-rep-r1')}${path}`, body);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
  }

  const held = (tenant: string) =>
    apic!
      .mit()
      .dump()
      .filter((o) => (o.dn === `uni/tn-${tenant}` || o.dn.startsWith(`uni/tn-${tenant}/`)) && o.attrs.annotation === OWNER_ANNOTATION)
      .map((o) => [o.dn, o.cls, o.attrs] as const)
      .sort((a, b) => a[0].localeCompare(b[0]));
  const expected = (tenant: string) =>
    (REF_EXPECTED[tenant] ?? [])
      .map(([dn, cls, attrs]) => [dn, cls, { ...attrs, annotation: OWNER_ANNOTATION }] as const)
      .sort((a, b) => a[0].localeCompare(b[0]));
  const matches = (tenant: string) => JSON.stringify(held(tenant)) === JSON.stringify(expected(tenant));
  /** `netctl aci-gw inspect` against one replica */
  const netctlInspect = async (id: string): Promise<AciView | undefined> => {
    const shown = await run(NETCTL, ['--netmaster', nms.get(id)!.url, 'aci-gw', 'inspect'], { env: { ...process.env, NETMASTER: '' } });
    return (JSON.parse(shown.stdout) as { Oper: { aci?: AciView } }).Oper.aci;
  };
  const states = (v: AciView | undefined) => Object.fromEntries(Object.entries(v?.tenants ?? {}).map(([t, s]) => [t, s.state]));
  const apicMutations = () => apic!.calls.filter((c) => c.method !== 'GET');

  it('signed requests only: the reference intent converges, no aaaLogin', async () => {
    await ok('/globals/global/', { name: 'global', networkInfraType: 'aci', vlans: REF_VLANS });
    await ok('/aciGws/aciGw/', REF_GW);
    for (const t of ['acA', 'acB']) await ok(`/tenants/${t}/`, { tenantName: t });
    for (const n of REF_NETWORKS) await ok(`/networks/${n.tenantName}:${n.networkName}/`, n);
    for (const p of ['web-pol', 'db-pol']) await ok(`/policys/acA:${p}/`, { tenantName: 'acA', policyName: p });
    await ok('/policys/acB:back-pol/', { tenantName: 'acB', policyName: 'back-pol' });
    for (const c of REF_EXT_CONTRACTS) await ok(`/extContractsGroups/${c.tenantName}:${c.contractsGroupName}/`, c);
    for (const g of REF_GROUPS) await ok(`/endpointGroups/${g.tenantName}:${g.groupName}/`, g);
    for (const r of REF_RULES) await ok(`/rules/${r.tenantName}:${r.policyName}:${r.ruleId}/`, r);
    for (const a of REF_APP_PROFILES) await ok(`/appProfiles/${a.tenantName}:${a.appProfileName}/`, a);
    await waitFor('the reference tree, signed', () => matches('acA') && matches('acB'), { timeoutMs: 30_000, intervalMs: 100 });
    assert.ok(apic!.calls.length > 0);
    assert.deepEqual(
      apic!.calls.filter((c) => c.path.startsWith('/api/aaa')),
      [],
      'no login, no refresh',
    );
    assert.ok(apic!.calls.every((c) => c.status === 200));
  });

  it('the replica that does not lead shows the sync state: netctl aci-gw inspect, the group and the app profile', async () => {
    await startNm('ac-rep-r2');
    const v = await waitFor(
      'in sync on r2',
      async () => {
        const got = await netctlInspect('ac-rep-r2');
        return got && JSON.stringify(states(got)) === JSON.stringify({ acA: 'in sync', acB: 'in sync' }) ? got : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.equal(v.replica, 'ac-rep-r1', 'r1 leads and runs the gateway');
    assert.equal(v.gateway, 'running');
    assert.ok((v.tenants.acA?.posted ?? 0) > 0, 'what the last sync sent');
    const grp = (await call('GET', `${api('ac-rep-r2')}/inspect/endpointGroups/acA:web/`)).json.Oper.aciSync as TenantSync;
    assert.equal(grp.state, 'in sync');
    const ap = (await call('GET', `${api('ac-rep-r2')}/inspect/appProfiles/acA:app1/`)).json.Oper.aciSync as TenantSync;
    assert.deepEqual(ap, v.tenants.acA);
  });

  it('a certificate the APIC no longer holds: an error quoting the APIC on both replicas, then in sync again', async () => {
    const port = apic!.port;
    await apic!.close();
    apic = await startApic('rotated', port); // the user's certificate replaced on the APIC
    await ok('/rules/acA:db-pol:5/', { ...REF_RULES[0], ruleId: '5', port: 5555 });
    for (const id of ['ac-rep-r1', 'ac-rep-r2']) {
      const bad = await waitFor(
        `the signature error in inspect on ${id}`,
        async () => {
          const t = (await netctlInspect(id))?.tenants.acA;
          return t?.state === 'error' ? t : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      assert.match(bad.message ?? '', new RegExp(`signed as ${CERT_DN}: 403 \\(code 403\\) Signature verification failed`));
    }
    assert.ok(apic!.calls.length > 0 && apic!.calls.every((c) => c.status === 403), 'every signed call was refused');
    assert.equal(apic!.mit().get('uni/tn-acA/brc-db-pol-5'), undefined, 'nothing refused was applied');
    await apic!.close();
    apic = await startApic('netloom', port);
    await waitFor('the new contract after the certificate is back', () => apic!.mit().get('uni/tn-acA/brc-db-pol-5'), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const back = await waitFor(
      'in sync on r2 with the last error kept',
      async () => {
        const t = (await netctlInspect('ac-rep-r2'))?.tenants.acA;
        return t?.state === 'in sync' ? t : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.match(back.lastError?.message ?? '', /Signature verification failed/);
    assert.equal((await call('DELETE', `${api('ac-rep-r1')}/rules/acA:db-pol:5/`)).status, 200);
    await waitFor('back to the reference', () => matches('acA') && !apic!.mit().get('uni/tn-acA/brc-db-pol-5'), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  });

  it('the other replica takes over the gateway: inspect names it, nothing is sent for a tree already right', async () => {
    await waitFor('r1 settled', async () => states(await netctlInspect('ac-rep-r2')).acA === 'in sync', { timeoutMs: 30_000 });
    apic!.clearCalls();
    await nms.get('ac-rep-r1')!.stop();
    nms.delete('ac-rep-r1');
    const v = await waitFor(
      'r2 runs the gateway',
      async () => {
        const got = await netctlInspect('ac-rep-r2');
        return got?.replica === 'ac-rep-r2' && apic!.calls.some((c) => c.method === 'GET') ? got : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.deepEqual(states(v), { acA: 'in sync', acB: 'in sync' });
    // r2's first pass read the APIC and found nothing to send
    await waitFor('r2 read both tenants', () => ['acA', 'acB'].every((t) => apic!.calls.some((c) => c.dn === `uni/tn-${t}`)), {
      timeoutMs: 30_000,
    });
    assert.deepEqual(apicMutations(), []);
    assert.ok(matches('acA') && matches('acB'));
  });
});
