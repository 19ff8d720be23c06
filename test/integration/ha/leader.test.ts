/** Leader election on a real etcd: one leader, takeover within the lease TTL after a kill -9. */
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { LeaderElector, runWhileLeader } from '../../../netmaster/ha/leader';
import { EtcdKV } from '../../../netmaster/store/kv';
import { waitFor } from '../../../lib/clock';
import { EtcdFixture, startTestEtcd } from '../../support/etcd-fixture';

const LEADER_JS = resolve(__dirname, '../../../netmaster/ha/leader.js');
const KV_JS = resolve(__dirname, '../../../netmaster/store/kv.js');

/** A replica in its own process, so that it can die without resigning. */
function replicaProcess(endpoint: string, id: string, ttl: number): { child: ChildProcess; elected: Promise<void> } {
  const script = `
    const { EtcdKV } = require(${JSON.stringify(KV_JS)});
    const { LeaderElector } = require(${JSON.stringify(LEADER_JS)});
    const e = new LeaderElector({ store: new EtcdKV({ hosts: ${JSON.stringify(endpoint)} }), id: ${JSON.stringify(id)}, ttlSeconds: ${ttl} });
    e.on('elected', () => process.stdout.write('elected\\n'));
    e.start();`;
  const child = spawn(process.execPath, ['-e', script], { cwd: resolve(__dirname, '../../../..'), stdio: ['ignore', 'pipe', 'inherit'] });
  const elected = new Promise<void>((res, rej) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('elected') && res());
    child.once('exit', (code) => rej(new Error(`replica ${id} exited (${String(code)}) before it was elected`)));
  });
  elected.catch(() => undefined);
  return { child, elected };
}

describe('netmaster leader election (real etcd)', function () {
  let etcd: EtcdFixture;
  const clients: EtcdKV[] = [];
  const electors: LeaderElector[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    etcd = await startTestEtcd('ha', 25010);
  });
  afterEach(async () => {
    for (const e of electors.splice(0)) await e.stop();
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await etcd?.stop();
  });

  let election = 0;
  beforeEach(() => {
    election++; // a fresh election per test
  });
  function elector(id: string, ttl = 2): LeaderElector {
    const client = new EtcdKV({ hosts: etcd.endpoint });
    clients.push(client);
    const e = new LeaderElector({ store: client, id, ttlSeconds: ttl, electionName: `test-${election}` });
    electors.push(e);
    return e;
  }

  it('elects exactly one of three replicas and hands over on resign', async () => {
    const es = ['a', 'b', 'c'].map((id) => elector(id));
    es.forEach((e) => e.start());
    await waitFor('a leader', () => es.some((e) => e.isLeader), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(es.filter((e) => e.isLeader).length, 1, 'exactly one leader');
    const first = es.find((e) => e.isLeader) as LeaderElector;
    const firstId = await first.leader();
    assert.ok(firstId && ['a', 'b', 'c'].includes(firstId));
    await first.stop();
    const rest = es.filter((e) => e !== first);
    await waitFor('a new leader after resign', () => rest.some((e) => e.isLeader), { timeoutMs: 5_000 });
    assert.equal(rest.filter((e) => e.isLeader).length, 1);
    assert.notEqual(await rest[0]?.leader(), firstId);
  });

  it('takes over within the lease TTL when the leader is killed with SIGKILL', async () => {
    const ttl = 2;
    // the replica process and the survivor both use the default election name
    const script = replicaProcess(etcd.endpoint, 'doomed', ttl);
    children.push(script.child);
    await script.elected;
    const client = new EtcdKV({ hosts: etcd.endpoint });
    clients.push(client);
    const survivor = new LeaderElector({ store: client, id: 'survivor', ttlSeconds: ttl });
    electors.push(survivor);
    survivor.start();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(survivor.isLeader, false, 'the live leader keeps the role');
    const killedAt = Date.now();
    script.child.kill('SIGKILL');
    await waitFor('the survivor to take over', () => survivor.isLeader, { timeoutMs: (ttl + 3) * 1000, intervalMs: 50 });
    const took = Date.now() - killedAt;
    assert.ok(took <= (ttl + 1) * 1000, `takeover took ${took} ms, lease TTL is ${ttl} s`);
    assert.equal(await survivor.leader(), 'survivor');
  });

  it('a standby replica that stops lets its process exit: no watch is left retrying after the client closes', async () => {
    const leader = elector('leader');
    leader.start();
    await waitFor('the leader', () => leader.isLeader, { timeoutMs: 10_000 });
    const name = `test-${election}`;
    // the standby waits on the leader's key (etcd3's campaign watch) when it is told to stop
    const script = `
      const { EtcdKV } = require(${JSON.stringify(KV_JS)});
      const { LeaderElector } = require(${JSON.stringify(LEADER_JS)});
      const kv = new EtcdKV({ hosts: ${JSON.stringify(etcd.endpoint)} });
      const e = new LeaderElector({ store: kv, id: 'standby', ttlSeconds: 2, electionName: ${JSON.stringify(name)} });
      e.start();
      (async () => {
        while ((await kv.list(${JSON.stringify(`election/${name}/`)})).kvs.length < 2) await new Promise((r) => setTimeout(r, 20));
        process.stdout.write('waiting\\n');
        process.stdin.once('data', async () => {
          await e.stop();
          kv.close();
          process.stdout.write('stopped\\n');
          process.stdin.destroy();
        });
      })();`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the standby to wait', () => out.includes('waiting'), { timeoutMs: 10_000 });
    assert.equal(leader.isLeader, true);
    child.stdin?.write('stop\n');
    await waitFor('the standby to stop', () => out.includes('stopped'), { timeoutMs: 10_000 });
    await waitFor('the standby process to exit by itself', () => child.exitCode !== null, { timeoutMs: 10_000 });
    assert.equal(child.exitCode, 0);
  });

  it('runs leader work only while leading and aborts it on loss', async () => {
    const e = elector('worker');
    let runs = 0;
    let aborted = false;
    const detach = runWhileLeader(e, async (signal) => {
      runs++;
      await new Promise<void>((res) => signal.addEventListener('abort', () => res()));
      aborted = true;
    });
    assert.equal(runs, 0, 'nothing runs before the election');
    e.start();
    await waitFor('the task to start', () => runs === 1, { timeoutMs: 10_000 });
    await e.stop();
    await waitFor('the task to be aborted', () => aborted, { timeoutMs: 2_000 });
    detach();
  });
});
