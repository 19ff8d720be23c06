/**
 * The OVSDB client against a real ovsdb-server (private instance in the root namespace, default
 * datapath type only, so ovs-vswitchd creates no devices): list_dbs/get_schema/echo, unix socket
 * and TCP, atomic transactions that report the failing operation, monitors that see ovs-vsctl's
 * changes, cancel, locks, and pending requests rejected when the connection closes either side.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { waitFor } from '../../../lib/clock';
import { isNetloomError, NetloomError } from '../../../lib/errors';
import { ovsCtl, OvsInstance, startOvs, stopOvs } from '../../../deploy/lab/ovs-instance';
import {
  connect,
  del,
  eq,
  insert,
  isOvsdbError,
  mutate,
  mutation,
  namedUuid,
  OvsdbClient,
  ReconnectingOvsdb,
  select,
  update,
  wait,
  comment,
  abort,
  addBridgeTx,
  deleteBridgeTx,
  SelectResult,
  VSwitch,
} from '../../../ovs/ovsdb';

const DIR = '/tmp/nl-ovsdb/proto';
const DB = 'Open_vSwitch';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function vsctl(inst: OvsInstance, ...args: string[]): Promise<string> {
  return (await ovsCtl(inst, 'ovs-vsctl', args)).trim();
}

describe('ovsdb client against a real ovsdb-server', function () {
  this.timeout(30_000);
  let inst: OvsInstance;
  let client: OvsdbClient;
  const extraClients: OvsdbClient[] = [];

  before(async () => {
    await stopOvs(DIR);
    rmSync(DIR, { recursive: true, force: true });
    inst = await startOvs(DIR);
    client = await connect(inst.dbSock);
  });

  after(async () => {
    for (const c of [client, ...extraClients]) await c?.close();
    await stopOvs(DIR);
  });

  it('list_dbs, get_schema and echo', async () => {
    const dbs = await client.listDbs();
    assert.ok(dbs.includes('Open_vSwitch'), dbs.join(','));
    const schema = await client.getSchema(DB);
    assert.equal(schema.name, 'Open_vSwitch');
    assert.match(schema.version, /^\d+\.\d+\.\d+$/);
    assert.ok(schema.tables.Bridge?.columns.fail_mode);
    assert.deepEqual(await client.echo('ping', 42, { a: [1] }), ['ping', 42, { a: [1] }]);
    await assert.rejects(
      client.getSchema('NoSuchDb'),
      (e: unknown) => isOvsdbError(e, 'unknown database') && e.code === 'INVALID_ARGUMENT',
    );
  });

  it('a transaction with a failing operation applies nothing and names the failing operation', async () => {
    const before = await vsctl(inst, 'list-br');
    const ops = [
      insert('Bridge', { name: 'atom0' }, 'br'),
      mutate('Open_vSwitch', [], [mutation('bridges', 'insert', [namedUuid('br')])]),
      insert('QoS', { type: 'linux-htb' }),
      comment('this transaction must not be applied'),
      update('Bridge', [eq('name', 'atom0')], { fail_mode: 'not-a-mode' }),
    ];
    await assert.rejects(client.transact(DB, ops), (e: unknown) => {
      assert.ok(isOvsdbError(e, 'constraint violation'), String(e));
      assert.equal(e.opIndex, 4);
      assert.equal(e.op, 'update');
      assert.equal(e.atCommit, false);
      assert.match(e.serverDetails ?? '', /not-a-mode/);
      return true;
    });
    const [bridges, qos] = await client.transact(DB, [select('Bridge', [eq('name', 'atom0')]), select('QoS')] as const);
    assert.deepEqual(bridges.rows, []);
    assert.deepEqual(qos.rows, []);
    assert.equal(await vsctl(inst, 'list-br'), before);
    assert.equal(await vsctl(inst, 'list', 'QoS'), '');
  });

  it('abort fails the transaction at its index; a commit-time violation (duplicate name) is atCommit', async () => {
    await assert.rejects(
      client.transact(DB, [insert('QoS', { type: 'linux-htb' }), abort()]),
      (e: unknown) => isOvsdbError(e, 'aborted') && e.opIndex === 1,
    );
    const mk = (uuidName: string): ReturnType<typeof insert>[] => [insert('Bridge', { name: 'dup0' }, uuidName)];
    await assert.rejects(
      client.transact(DB, [
        ...mk('a'),
        ...mk('b'),
        insert('QoS', { type: 'linux-htb' }),
        mutate('Open_vSwitch', [], [mutation('bridges', 'insert', [namedUuid('a'), namedUuid('b')])]),
      ]),
      (e: unknown) => {
        assert.ok(isOvsdbError(e, 'constraint violation'), String(e));
        assert.equal(e.atCommit, true);
        assert.equal(e.opIndex, 4);
        assert.equal(e.code, 'CONFLICT');
        return true;
      },
    );
    const [b, q] = await client.transact(DB, [select('Bridge', [eq('name', 'dup0')]), select('QoS')] as const);
    assert.deepEqual(b.rows, []);
    assert.deepEqual(q.rows, []);
  });

  it('addBridge refuses to run against a database without its root row (checked by rolling back a delete of it)', async () => {
    const plan = addBridgeTx({ name: 'noroot0' });
    // delete the root row, then the bridge transaction, atomically: the guard must fail, and so nothing applies
    await assert.rejects(client.transact(DB, [del('Open_vSwitch', []), ...plan.ops]), (e: unknown) => {
      assert.ok(isOvsdbError(e, 'timed out'), String(e));
      assert.equal(e.opIndex, 1 + (plan.guards.find((g) => g.field === 'Open_vSwitch')?.opIndex ?? -99));
      return true;
    });
    assert.match(await vsctl(inst, 'get', 'Open_vSwitch', '.', '_uuid'), /^[0-9a-f-]{36}$/);
    // without the guards the same transaction "succeeds" and leaves no bridge (it is garbage
    // collected, nothing references it): what the guard prevents. Restore the root row after.
    const unguarded = plan.ops.filter((_, i) => !plan.guards.some((g) => g.opIndex === i));
    const results = await client.transact(DB, [del('Open_vSwitch', []), ...unguarded]);
    assert.deepEqual(
      results[1 + unguarded.findIndex((o) => o.op === 'mutate')],
      { count: 0 },
      'the mutate of the missing root row matched nothing',
    );
    assert.equal(await vsctl(inst, '--no-wait', 'list-br'), '');
    assert.equal(await vsctl(inst, '--columns=name', 'find', 'Bridge', 'name=noroot0'), '');
    await vsctl(inst, '--no-wait', 'init');
    assert.match(await vsctl(inst, 'get', 'Open_vSwitch', '.', '_uuid'), /^[0-9a-f-]{36}$/);
  });

  it('concurrent writers: bridges added at once from two connections all stay attached; a stale delete is refused', async () => {
    const other = await connect(inst.dbSock);
    extraClients.push(other);
    const a = new VSwitch(client);
    const b = new VSwitch(other);
    const names = Array.from({ length: 10 }, (_, i) => `cc${i}`);
    await Promise.all(names.map((n, i) => (i % 2 === 0 ? a : b).addBridge({ name: n, externalIds: { by: i % 2 === 0 ? 'a' : 'b' } })));
    assert.equal(await vsctl(inst, 'list-br'), [...names].sort().join('\n'));
    // the same name from both at once: exactly one wins
    const race = await Promise.allSettled([a.addBridge({ name: 'race0' }), b.addBridge({ name: 'race0' })]);
    assert.deepEqual(race.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const lost = race.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(isNetloomError(lost.reason, 'ALREADY_EXISTS') || isOvsdbError(lost.reason, 'constraint violation'), String(lost.reason));
    // a delete built from a read that is stale (bridge re-created meanwhile) fails its guard
    const staleUuid = await vsctl(inst, 'get', 'Bridge', 'race0', '_uuid');
    await vsctl(inst, '--no-wait', 'del-br', 'race0', '--', 'add-br', 'race0');
    await assert.rejects(
      a.run(deleteBridgeTx('race0', staleUuid)),
      (e: unknown) => isNetloomError(e, 'CONFLICT') && e.field === 'bridge.name',
    );
    assert.notEqual(await vsctl(inst, 'get', 'Bridge', 'race0', '_uuid'), staleUuid);
    for (const n of [...names, 'race0']) assert.equal(await a.deleteBridge(n), true);
    assert.equal(await vsctl(inst, 'list-br'), '');
  });

  it('a monitor sees a port that ovs-vsctl adds, and its deletion', async () => {
    await vsctl(inst, '--no-wait', 'add-br', 'brmon');
    const m = await client.monitor(DB, { Port: { columns: ['name', 'tag'] }, Interface: { columns: ['name', 'type'] } });
    try {
      assert.ok(m.initial.some((c) => c.table === 'Port' && c.new?.name === 'brmon' && c.kind === 'initial'));
      const inserted = m.waitFor((c) => c.table === 'Port' && c.kind === 'insert' && c.new?.name === 'mon0', 5000);
      await vsctl(inst, '--no-wait', 'add-port', 'brmon', 'mon0', 'tag=7', '--', 'set', 'Interface', 'mon0', 'type=internal');
      const ins = await inserted;
      assert.equal(ins.new?.tag, 7);
      const modified = m.waitFor((c) => c.table === 'Port' && c.kind === 'modify' && c.uuid === ins.uuid, 5000);
      await vsctl(inst, '--no-wait', 'set', 'Port', 'mon0', 'tag=8');
      const mod = await modified;
      assert.deepEqual([mod.old?.tag, mod.new?.tag], [7, 8]);
      const deleted = m.waitFor((c) => c.table === 'Port' && c.kind === 'delete' && c.uuid === ins.uuid, 5000);
      const ifaceDeleted = m.waitFor((c) => c.table === 'Interface' && c.kind === 'delete' && c.old?.name === 'mon0', 5000);
      await vsctl(inst, '--no-wait', 'del-port', 'brmon', 'mon0');
      assert.equal((await deleted).old?.name, 'mon0');
      assert.equal((await ifaceDeleted).old?.type, 'internal');
    } finally {
      await m.cancel();
      await vsctl(inst, '--no-wait', '--if-exists', 'del-br', 'brmon');
    }
    // after cancel no more updates arrive for it (and the server accepted the cancel)
    assert.equal(await vsctl(inst, 'list-br'), '');
  });

  it('a blocking wait is released by a matching change made by another client', async () => {
    const waiting = client.transact(DB, [
      wait('Bridge', [eq('name', 'late0')], ['name'], '==', [{ name: 'late0' }], 10_000),
      select('Bridge', [eq('name', 'late0')], ['name']),
    ] as const);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    await vsctl(inst, '--no-wait', 'add-br', 'late0');
    const [, sel] = await waiting;
    assert.deepEqual((sel as SelectResult).rows, [{ name: 'late0' }]);
    assert.ok(Date.now() - t0 < 5000);
    await vsctl(inst, '--no-wait', 'del-br', 'late0');
  });

  it('cancel (AbortSignal) ends a blocking wait; the connection stays usable', async () => {
    const ac = new AbortController();
    const p = client.transact(DB, [wait('Bridge', [eq('name', 'never0')], ['name'], '==', [{ name: 'never0' }], 20_000)], {
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(new Error('gave up waiting')), 100);
    const t0 = Date.now();
    await assert.rejects(p, /gave up waiting/);
    assert.ok(Date.now() - t0 < 2000);
    assert.deepEqual(await client.echo('still here'), ['still here']);
  });

  it('a connection closed mid-request rejects pending calls (client side and server side)', async () => {
    const c1 = await connect(`unix:${inst.dbSock}`);
    extraClients.push(c1);
    const blocked = c1.transact(DB, [wait('Bridge', [eq('name', 'never1')], ['name'], '==', [{ name: 'never1' }], 20_000)]);
    const r1 = assert.rejects(
      blocked,
      (e: unknown) => isNetloomError(e, 'UNAVAILABLE') && /before a reply to transact/.test((e as Error).message),
    );
    await new Promise((r) => setTimeout(r, 100));
    await c1.close();
    await r1;
    await assert.rejects(c1.listDbs(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));

    // server side: ovsdb-server/reconnect drops every client connection
    const c2 = await connect(inst.dbSock);
    extraClients.push(c2);
    const blocked2 = c2.transact(DB, [wait('Bridge', [eq('name', 'never2')], ['name'], '==', [{ name: 'never2' }], 20_000)]);
    const r2 = assert.rejects(blocked2, (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    await new Promise((r) => setTimeout(r, 100));
    await ovsCtl(inst, 'ovs-appctl', ['-t', `${inst.runDir}/ovsdb-server.ctl`, 'ovsdb-server/reconnect']);
    await r2;
    assert.ok(c2.isClosed);
    // the main client was dropped too: reconnect for the tests that follow
    await client.rpc.closed;
    client = await connect(inst.dbSock);
  });

  it('ReconnectingOvsdb reconnects after the server drops it and restarts its monitor in onConnect', async () => {
    const seen: string[] = [];
    const rc = new ReconnectingOvsdb(inst.dbSock, {
      minBackoffMs: 50,
      onConnect: async (c) => {
        const m = await c.monitor(DB, { Bridge: { columns: ['name'], select: { initial: false } } });
        m.onUpdate((changes) => changes.forEach((ch) => ch.kind === 'insert' && seen.push(String(ch.new?.name))));
      },
    });
    try {
      const first = await rc.ready();
      await ovsCtl(inst, 'ovs-appctl', ['-t', `${inst.runDir}/ovsdb-server.ctl`, 'ovsdb-server/reconnect']);
      await first.rpc.closed;
      const t0 = Date.now();
      const second = await rc.ready();
      const reconnectMs = Date.now() - t0;
      assert.notEqual(second, first);
      assert.equal(rc.connectionCount, 2);
      console.log(`      reconnected in ${reconnectMs} ms`);
      await vsctl(inst, '--no-wait', 'add-br', 'rc0');
      for (let i = 0; i < 100 && !seen.includes('rc0'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, ['rc0']);
      await vsctl(inst, '--no-wait', 'del-br', 'rc0');
    } finally {
      await rc.stop();
    }
    // the main client was dropped too
    await client.rpc.closed;
    client = await connect(inst.dbSock);
  });

  it('works over TCP (ovs-vsctl set-manager ptcp on an ephemeral port)', async () => {
    const port = await freePort();
    await vsctl(inst, 'set-manager', `ptcp:${port}:127.0.0.1`);
    try {
      let tcp: OvsdbClient | undefined;
      for (let i = 0; i < 50 && !tcp; i++) {
        try {
          tcp = await connect(`tcp:127.0.0.1:${port}`);
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      assert.ok(tcp, `could not connect to tcp:127.0.0.1:${port}`);
      extraClients.push(tcp);
      assert.ok((await tcp.listDbs()).includes(DB));
      const [ins] = await tcp.transact(DB, [insert('QoS', { type: 'linux-htb', external_ids: { via: 'tcp' } })] as const);
      assert.match(await vsctl(inst, 'get', 'QoS', ins.uuid[1], 'external_ids:via'), /tcp/);
      const [d] = await tcp.transact(DB, [del('QoS', [eq('_uuid', ins.uuid)])] as const);
      assert.equal(d.count, 1);
      // the server probes an idle manager connection with echo (every 1 s here): we answer and stay up
      await vsctl(inst, 'set', 'Manager', `ptcp:${port}:127.0.0.1`, 'inactivity_probe=1000');
      await new Promise((r) => setTimeout(r, 2600));
      assert.ok(tcp.rpc.stats.echoesAnswered >= 1, JSON.stringify(tcp.rpc.stats));
      assert.ok(!tcp.isClosed);
      assert.deepEqual(await tcp.echo('alive'), ['alive']);
      await tcp.close();
    } finally {
      await vsctl(inst, 'del-manager');
    }
  });

  it('keepalive: probes are answered by a live server; a frozen server is declared dead (TIMEOUT)', async () => {
    const ka = await connect(inst.dbSock, { keepalive: { intervalMs: 200 } });
    extraClients.push(ka);
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(ka.rpc.stats.probesSent >= 1, JSON.stringify(ka.rpc.stats));
    assert.ok(!ka.isClosed);
    let reason: NetloomError | undefined;
    const closed = new Promise<void>((resolve) => ka.onClose((r) => ((reason = r), resolve())));
    const t0 = Date.now();
    process.kill(inst.ovsdbPid, 'SIGSTOP'); // our own ovsdb-server, resumed below whatever happens
    try {
      await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    } finally {
      process.kill(inst.ovsdbPid, 'SIGCONT');
    }
    const detectedMs = Date.now() - t0;
    assert.ok(isNetloomError(reason, 'TIMEOUT'), `closed with ${String(reason)}`);
    assert.ok(detectedMs < 2000, `dead peer detected after ${detectedMs} ms`);
    console.log(`      frozen server detected after ${detectedMs} ms (interval 200 ms)`);
    assert.deepEqual(await client.echo('after SIGCONT'), ['after SIGCONT']);
  });

  it('connecting to a socket with no server fails with UNAVAILABLE', async () => {
    await assert.rejects(connect(`${DIR}/run/no-such.sock`), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
  });

  it('lock: the second client waits and gets "locked" when the first unlocks', async () => {
    const other = await connect(inst.dbSock);
    extraClients.push(other);
    await assert.rejects(client.lock('bad-lock-name'), (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'lockId');
    assert.equal(await client.lock('nl_test_lock'), true);
    const events: string[] = [];
    other.onLockEvent((ev, id) => events.push(`${ev}:${id}`));
    assert.equal(await other.lock('nl_test_lock'), false);
    await client.unlock('nl_test_lock');
    await waitFor('the lock notification', () => events.length > 0, { timeoutMs: 1000, intervalMs: 25 });
    assert.deepEqual(events, ['locked:nl_test_lock']);
    await other.unlock('nl_test_lock');
  });

  it('measures: echo round trip and single-row transactions per second (reported, loosely bounded)', async () => {
    const n = 200;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await client.echo(i);
    const echoUs = Number(process.hrtime.bigint() - t0) / 1000 / n;
    t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++)
      await client.transact(DB, [mutate('Open_vSwitch', [], [mutation('external_ids', 'insert', { [`k${i}`]: 'v' })])]);
    const txUs = Number(process.hrtime.bigint() - t0) / 1000 / n;
    t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.transact(DB, [mutate('Open_vSwitch', [], [mutation('external_ids', 'delete', [`k${i}`])])]),
      ),
    );
    const pipelinedUs = Number(process.hrtime.bigint() - t0) / 1000 / n;
    console.log(
      `      echo RTT ${echoUs.toFixed(0)} us; sequential transact ${txUs.toFixed(0)} us each; pipelined transact ${pipelinedUs.toFixed(0)} us each`,
    );
    assert.ok(echoUs < 50_000 && txUs < 100_000);
    assert.doesNotMatch(await vsctl(inst, 'get', 'Open_vSwitch', '.', 'external_ids'), /k\d+=/);
  });
});
