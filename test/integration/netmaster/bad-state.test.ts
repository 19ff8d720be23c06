/**
 * Bad state in etcd (issue 13): values written straight into etcd under netmaster's keys, the way
 * etcdctl, an older netmaster or anyone on the management network could: five networks with a
 * 1 MB cfgdTag (over gRPC's 4 MiB together), one network of 3 MiB (over the stored-value limit),
 * one that is not JSON, one that fails the schema, one endpoint that is not JSON. netmaster starts
 * anyway; lists answer 200 (each stored object either served whole or skipped and reported, as
 * store/stored-values.ts judges it); agents' desired-state streams work; a watch from before the
 * bad writes delivers the other changes and names the skipped ones; the log, the metric and the
 * consistency check name the bad keys; a valid object written over a bad key replaces it.
 * Real etcd on 29510/29511, started with an 8 MiB request limit so a 3 MiB value can be stored.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { Etcd3 } from 'etcd3';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { problemOf } from '../../../netmaster/store/stored-values';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { rawClient, StreamRecorder } from '../agent-api/support';
import { call } from './support';

const TENANT = 'bad';
const net = (name: string, extra: Record<string, unknown> = {}) => ({
  tenantName: TENANT,
  networkName: name,
  nwType: 'data',
  encap: 'vxlan',
  pktTag: 0,
  subnet: '',
  gateway: '',
  ipv6Subnet: '',
  ipv6Gateway: '',
  cfgdTag: '',
  ...extra,
});
const stored = (config: object) => JSON.stringify({ config, oper: {} });

/** The bad (or big) values, by etcd key. */
const big = (i: number) => layout.cfg('network', `${TENANT}:big${i}`);
const RAW: Array<[string, string]> = [
  ...[0, 1, 2, 3, 4].map((i): [string, string] => [
    big(i),
    stored(net(`big${i}`, { pktTag: 3000 + i, subnet: `10.90.${i}.0/24`, cfgdTag: 'x'.repeat(1_000_000) })),
  ]),
  [
    layout.cfg('network', `${TENANT}:huge`),
    stored(net('huge', { pktTag: 3010, subnet: '10.90.10.0/24', cfgdTag: 'h'.repeat(3 * 1024 * 1024) })),
  ],
  [layout.cfg('network', `${TENANT}:nojson`), '{"config": {"tenantName": '],
  [layout.cfg('network', `${TENANT}:schema`), stored(net('schema', { pktTag: 'ten' }))],
  [layout.ep('bad-ep'), 'not json at all'],
];
const SURELY_BAD = [
  layout.cfg('network', `${TENANT}:huge`),
  layout.cfg('network', `${TENANT}:nojson`),
  layout.cfg('network', `${TENANT}:schema`),
  layout.ep('bad-ep'),
];
/** What netmaster must skip: the surely bad ones, and the 1 MB ones if the current schema refuses them. */
const SKIPPED = RAW.filter(([k, v]) => problemOf(k, v) !== undefined).map(([k]) => k);

interface SseEvent {
  event: string;
  id: string;
  data: Record<string, unknown>;
}

/** Read server-sent events from `url` into `events` until `stop()`. */
function readEvents(url: string): { events: SseEvent[]; stop(): void } {
  const events: SseEvent[] = [];
  let buf = '';
  const req = http.get(url, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const f: Record<string, string> = {};
        for (const line of block.split('\n')) {
          const c = line.indexOf(': ');
          if (c > 0) f[line.slice(0, c)] = line.slice(c + 2);
        }
        if (f.event && f.data) events.push({ event: f.event, id: f.id ?? '', data: JSON.parse(f.data) as Record<string, unknown> });
      }
    });
  });
  req.on('error', () => undefined);
  return { events, stop: () => req.destroy() };
}

describe('netmaster: bad state in etcd (real etcd)', function () {
  this.timeout(120_000);
  let etcd: EtcdFixture | undefined;
  let raw: Etcd3 | undefined;
  let nm: RunningNetmaster | undefined;
  const logLines: Array<Record<string, unknown>> = [];
  let sinceRev = '0';

  const start = () =>
    startNetmaster({
      etcdEndpoints: [etcd!.endpoint],
      logger: createLogger('bad-state-test', {
        level: 'info',
        destination: new Writable({
          write(chunk: Buffer, _enc, cb) {
            for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
            cb();
          },
        }),
      }),
      agent: { grpcListen: '127.0.0.1:0', agentLeaseTtlSeconds: 10, deadHostGraceMs: 60_000, leaderLeaseTtlSeconds: 10 },
    });

  before(async () => {
    // etcd reads its flags from ETCD_* too: only this member gets the larger request limit (the
    // process starts synchronously inside startTestEtcd, before its first await)
    process.env.ETCD_MAX_REQUEST_BYTES = String(8 * 1024 * 1024);
    const starting = startTestEtcd('nm-bad-state', 29510);
    delete process.env.ETCD_MAX_REQUEST_BYTES;
    etcd = await starting;
    raw = new Etcd3({ hosts: [etcd.endpoint], grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 } });
    // a netmaster writes good state first, and is gone when the bad values come
    const first = await start();
    await call('POST', `${first.url}/api/v1/tenants/${TENANT}/`, { tenantName: TENANT });
    const r = await call('POST', `${first.url}/api/v1/networks/${TENANT}:good1/`, net('good1', { subnet: '10.91.1.0/24' }));
    assert.equal(r.status, 200, r.text);
    sinceRev = await first.service.currentRevision();
    await first.stop();
    for (const [key, value] of RAW) await raw.put(key).value(value).exec();
    // and one more good change after them
    await raw
      .put(layout.cfg('network', `${TENANT}:good2`))
      .value(stored(net('good2', { pktTag: 3020, subnet: '10.91.2.0/24' })))
      .exec();
    nm = await start();
  });

  after(async () => {
    await nm?.stop().catch(() => undefined);
    raw?.close();
    await etcd?.stop();
  });

  it('the scenario holds what it should: 5 MB of networks, and values no netmaster can serve', () => {
    assert.ok(RAW.slice(0, 5).reduce((n, [, v]) => n + v.length, 0) > 4 * 1024 * 1024);
    for (const k of SURELY_BAD) assert.ok(SKIPPED.includes(k), `${k} is judged bad`);
  });

  it('starts, and lists answer 200: every stored network served whole or skipped', async () => {
    const r = await call('GET', `${nm!.url}/api/v1/networks/`);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    const names = new Set((r.json as Array<{ tenantName: string; networkName: string; cfgdTag: string }>).map((n) => n.networkName));
    assert.ok(names.has('good1') && names.has('good2'));
    for (const [key, value] of RAW.filter(([k]) => k.startsWith(layout.cfgPrefix('network')))) {
      const name = key.slice(key.lastIndexOf(':') + 1);
      assert.equal(names.has(name), !SKIPPED.includes(key), `${name}: served unless skipped`);
      if (!SKIPPED.includes(key)) {
        const got = (r.json as Array<{ networkName: string; cfgdTag: string }>).find((n) => n.networkName === name);
        assert.equal(got?.cfgdTag.length, (JSON.parse(value) as { config: { cfgdTag: string } }).config.cfgdTag.length, 'served whole');
      }
    }
    const eps = await call('GET', `${nm!.url}/api/v1/endpoints/`);
    assert.equal(eps.status, 200);
    assert.equal(
      (eps.json as Array<{ endpointID: string }>).some((e) => e.endpointID === 'bad-ep'),
      false,
    );
    // nothing else broke meanwhile (the circuit breaker did not open)
    for (let i = 0; i < 5; i++) assert.equal((await call('GET', `${nm!.url}/api/v1/networks/`)).status, 200);
    assert.equal((await call('GET', `${nm!.url}/healthz`)).status, 200);
  });

  it('a get of a bad object answers 400 DECODE_ERROR naming the key and why', async () => {
    const r = await call('GET', `${nm!.url}/api/v1/networks/${TENANT}:nojson/`);
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'DECODE_ERROR');
    assert.match(r.json.error, /nojson/);
    assert.match(r.json.error, /not JSON/);
  });

  it("an agent's desired-state stream works: a snapshot in parts, each under the limit, then changes", async () => {
    const ep = await call('POST', `${nm!.url}/api/v1/endpoints/`, {
      tenantName: TENANT,
      networkName: 'good1',
      containerID: 'c-bad-state',
      homingHost: 'bad-h1',
    });
    assert.equal(ep.status, 200, ep.text);
    const rec = new StreamRecorder(rawClient(nm!.agent!.server.address), 'bad-h1');
    try {
      await waitFor('the whole snapshot', () => rec.updates.some((u) => u.snapshot && !u.snapshot.more) || rec.ended, {
        timeoutMs: 20_000,
      });
      assert.equal(rec.error, undefined, 'no message over the 4 MiB receive limit, no stream error');
      const networks = rec.updates.flatMap((u) => u.snapshot?.state?.networks ?? []).map((n) => n.name);
      assert.ok(networks.includes('good1'), `the host's network is in its view (${networks.join(',')})`);
      const from = rec.updates.length;
      await call('POST', `${nm!.url}/api/v1/networks/${TENANT}:good3/`, net('good3', { subnet: '10.91.3.0/24' }));
      await call('POST', `${nm!.url}/api/v1/endpoints/`, {
        tenantName: TENANT,
        networkName: 'good3',
        containerID: 'c-bad-state-2',
        homingHost: 'bad-h1',
      });
      await waitFor('the change with the new network', async () => {
        const group = await rec.nextGroup(from, 5000).catch(() => []);
        return group.length > 0 && rec.updates.slice(from).some((u) => u.change?.network?.name === 'good3');
      });
      assert.equal(rec.error, undefined);
    } finally {
      rec.cancel();
    }
  });

  it('a watch from before the bad writes sends the other changes and names the skipped ones', async () => {
    const w = readEvents(`${nm!.url}/api/v1/watch?since=${sinceRev}`);
    try {
      await waitFor(
        'good2 and every skipped key',
        () =>
          w.events.some((e) => e.event === 'change' && e.data.key === `${TENANT}:good2`) &&
          SKIPPED.every((k) => w.events.some((e) => e.event === 'skipped' && e.data.key === k)),
        { timeoutMs: 20_000 },
      );
    } finally {
      w.stop();
    }
    for (const [key] of RAW.filter(([k]) => !SKIPPED.includes(k))) {
      const objKey = key.slice(layout.cfgPrefix('network').length);
      assert.ok(
        w.events.some((e) => e.event === 'change' && e.data.key === objKey),
        `${objKey} sent as a change`,
      );
    }
    const skipped = w.events.find((e) => e.event === 'skipped' && e.data.key === layout.cfg('network', `${TENANT}:schema`));
    assert.match(String(skipped?.data.reason), /fails the schema: pktTag/);
    assert.equal(skipped?.data.kind, 'network');
    assert.ok(/^\d+$/.test(skipped?.id ?? ''), 'a skipped change has an id: a client resumes after it');
  });

  it('the log names each bad key once, the metric counts them, the consistency check lists them', async () => {
    for (const k of SKIPPED) {
      const warnings = logLines.filter((l) => l.key === k && typeof l.reason === 'string');
      assert.equal(warnings.length, 1, `${k} logged once (${warnings.length})`);
    }
    const metrics = await call('GET', `${nm!.url}/metrics`);
    const nets = SKIPPED.filter((k) => k.startsWith(layout.cfgPrefix('network'))).length;
    assert.match(metrics.text, new RegExp(`netmaster_invalid_stored_objects\\{type="network"\\} ${nets}\\n`));
    assert.match(metrics.text, /netmaster_invalid_stored_objects\{type="endpoint"\} 1\n/);
    const c = await call('GET', `${nm!.url}/api/v1/consistency`);
    assert.equal(c.status, 200);
    assert.equal(c.json.clean, false);
    assert.deepEqual((c.json.invalid as Array<{ key: string }>).map((f) => f.key).sort(), [...SKIPPED].sort());
  });

  it('a valid object written over a bad key replaces it, a bad endpoint can be deleted, and neither is reported any more', async () => {
    const r = await call('POST', `${nm!.url}/api/v1/networks/${TENANT}:nojson/`, net('nojson', { subnet: '10.91.9.0/24' }));
    assert.equal(r.status, 200, r.text);
    assert.equal((await call('GET', `${nm!.url}/api/v1/networks/${TENANT}:nojson/`)).status, 200);
    const nets = SKIPPED.filter((k) => k.startsWith(layout.cfgPrefix('network'))).length - 1;
    await waitFor('the metric to drop', async () =>
      new RegExp(`netmaster_invalid_stored_objects\\{type="network"\\} ${nets}\\n`).test((await call('GET', `${nm!.url}/metrics`)).text),
    );
    const d = await call('DELETE', `${nm!.url}/api/v1/endpoints/bad-ep/`);
    assert.equal(d.status, 200, d.text);
    assert.equal((await raw!.get(layout.ep('bad-ep')).string()) ?? undefined, undefined, 'its key is gone');
    const c = await call('GET', `${nm!.url}/api/v1/consistency`);
    const invalid = (c.json.invalid as Array<{ key: string }>).map((f) => f.key);
    assert.ok(!invalid.includes(layout.cfg('network', `${TENANT}:nojson`)) && !invalid.includes(layout.ep('bad-ep')));
    assert.doesNotMatch((await call('GET', `${nm!.url}/metrics`)).text, /netmaster_invalid_stored_objects\{type="endpoint"\}/);
  });

  it('a restarted netmaster starts again on the same state', async () => {
    await nm!.stop();
    nm = undefined;
    nm = await start();
    assert.equal((await call('GET', `${nm.url}/api/v1/networks/`)).status, 200);
  });
});
