/** The APIC stand-in over real HTTP on loopback: login and cookie, refresh, expiry, POST/GET/DELETE, errors, record, faults, state file. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApicStandin, type RunningApicStandin } from '../../../tools/apic-standin/server';
import { FakeClock } from '../../support/fake-clock';

interface Reply {
  status: number;
  json: { totalCount?: string; imdata: Array<Record<string, { attributes: Record<string, string>; children?: unknown[] }>> };
  cookie: string | undefined;
}

async function call(s: RunningApicStandin, method: string, path: string, body?: unknown, cookie?: string): Promise<Reply> {
  const r = await fetch(`${s.url}${path}`, {
    method,
    headers: cookie ? { cookie: `APIC-cookie=${cookie}` } : {},
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const setCookie = r.headers.get('set-cookie') ?? '';
  return { status: r.status, json: (await r.json()) as Reply['json'], cookie: /APIC-cookie=([^;]+)/.exec(setCookie)?.[1] };
}

const login = (s: RunningApicStandin, pwd = 'pw') =>
  call(s, 'POST', '/api/aaaLogin.json', { aaaUser: { attributes: { name: 'admin', pwd } } });

describe('APIC stand-in over HTTP', () => {
  let dir: string;
  let clock: FakeClock;
  let s: RunningApicStandin;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ac-apic-'));
    clock = new FakeClock();
    s = await startApicStandin({ user: 'admin', password: 'pw', tokenLifetimeSeconds: 60, statePath: join(dir, 'state.json'), clock });
  });
  afterEach(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with the configured password only, and the cookie opens the API until the token expires', async () => {
    const bad = await login(s, 'wrong');
    assert.equal(bad.status, 401);
    assert.equal(bad.json.imdata[0]?.error?.attributes.code, '401');
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json')).status, 403, 'no cookie');
    const ok = await login(s);
    assert.equal(ok.status, 200);
    assert.ok(ok.cookie);
    assert.equal(ok.json.imdata[0]?.aaaLogin?.attributes.refreshTimeoutSeconds, '60');
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json', undefined, ok.cookie)).status, 200);
    clock.advance(30_000);
    const refreshed = await call(s, 'GET', '/api/aaaRefresh.json', undefined, ok.cookie);
    assert.equal(refreshed.status, 200);
    clock.advance(40_000);
    const old = await call(s, 'GET', '/api/class/fvTenant.json', undefined, ok.cookie);
    assert.equal(old.status, 403, 'the first token expired');
    assert.match(old.json.imdata[0]?.error?.attributes.text ?? '', /Token timeout/);
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json', undefined, refreshed.cookie)).status, 200, 'the refreshed one lives on');
  });

  it('POSTs a nested tree, answers queries, deletes by DN, records every call, and keeps state across a restart', async () => {
    const { cookie } = await login(s);
    const tree = {
      fvTenant: {
        attributes: { name: 'acT' },
        children: [{ fvAp: { attributes: { name: 'a' }, children: [{ fvAEPg: { attributes: { name: 'g' } } }] } }],
      },
    };
    assert.equal((await call(s, 'POST', '/api/mo/uni/tn-acT.json', tree, cookie)).status, 200);
    const bad = await call(
      s,
      'POST',
      '/api/mo/uni/tn-acT.json',
      { fvTenant: { attributes: { name: 'acT' }, children: [{ fvAEPg: { attributes: { name: 'x' } } }] } },
      cookie,
    );
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.json.imdata[0]?.error?.attributes ?? {}).sort(), ['code', 'text']);
    const q = await call(s, 'GET', '/api/mo/uni/tn-acT.json?query-target=subtree&target-subtree-class=fvAEPg', undefined, cookie);
    assert.equal(q.json.totalCount, '1');
    assert.equal(q.json.imdata[0]?.fvAEPg?.attributes.dn, 'uni/tn-acT/ap-a/epg-g');
    assert.equal((await call(s, 'GET', '/api/mo/uni/tn-acT.json?query-target=sideways', undefined, cookie)).status, 400);
    await s.close();
    s = await startApicStandin({ user: 'admin', password: 'pw', statePath: join(dir, 'state.json'), clock });
    const again = await login(s);
    const full = await call(s, 'GET', '/api/mo/uni/tn-acT.json?rsp-subtree=full', undefined, again.cookie);
    assert.equal(full.json.imdata[0]?.fvTenant?.children?.length, 1, 'the tree survived the restart');
    assert.equal((await call(s, 'DELETE', '/api/mo/uni/tn-acT/ap-a.json', undefined, again.cookie)).status, 200);
    assert.equal((await call(s, 'GET', '/api/mo/uni/tn-acT/ap-a/epg-g.json', undefined, again.cookie)).json.totalCount, '0');
    assert.deepEqual(
      s.calls.map((c) => [c.method, c.dn ?? c.cls ?? c.path, c.status]),
      [
        ['POST', '/api/aaaLogin.json', 200],
        ['GET', 'uni/tn-acT', 200],
        ['DELETE', 'uni/tn-acT/ap-a', 200],
        ['GET', 'uni/tn-acT/ap-a/epg-g', 200],
      ],
    );
  });

  it('answers 503 for the next N calls, or for a while, when told to', async () => {
    const { cookie } = await login(s);
    await fetch(`${s.url}/_standin/faults`, { method: 'POST', body: JSON.stringify({ count: 2 }) });
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json', undefined, cookie)).status, 503);
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json', undefined, cookie)).status, 503);
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json', undefined, cookie)).status, 200);
    s.faults.set({ forMs: 5000 });
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json', undefined, cookie)).status, 503);
    clock.advance(5000);
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json', undefined, cookie)).status, 200);
    await fetch(`${s.url}/_standin/expire-tokens`, { method: 'POST' });
    assert.equal((await call(s, 'GET', '/api/class/fvTenant.json', undefined, cookie)).status, 403);
  });
});
