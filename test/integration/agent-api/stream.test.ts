/**
 * WatchDesiredState against a real etcd and a real NetmasterService: the snapshot, incremental
 * changes tagged with etcd revisions, silence on unrelated changes, exact resume after a
 * reconnect, a fresh snapshot after compaction, and the agent-side client following it all
 * (including a server restart, resumed without a new snapshot), and a client that stops reading
 * getting later batches coalesced (HTTP/2 flow control fills the server's write buffer).
 */
import assert from 'node:assert/strict';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { applyChange, stateOf, storeFromState } from '../../../netplugin/netmaster-client/apply';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { stableJson } from '../../../netmaster/agent/view-diff';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import type { AgentClient } from '../../../proto/gen/netloom/v1/Agent';
import { rawClient, sleep, startEnv, startServer, stopEnv, StreamRecorder, until, type Env } from './support';

/** t1's VXLAN network n1, written in before() and again (unchanged but for one empty field) by a test */
const N1 = { tenantName: 't1', networkName: 'n1', subnet: '10.1.0.0/24', gateway: '10.1.0.1', encap: 'vxlan', pktTag: 5001 };

describe('agent API: desired-state stream (real etcd)', function () {
  this.timeout(60_000);
  let env: Env | undefined;
  let server: RunningAgentServer | undefined;
  let client: AgentClient | undefined;
  const recorders: StreamRecorder[] = [];
  const clients: NetmasterClient[] = [];
  const svc = () => env!.service;
  const serverCaughtUp = async () => {
    const now = await svc().currentRevision();
    await until('the server at the last change', () => BigInt(server!.cache.state.revision) >= BigInt(now));
  };
  const ep = (net: string, ctr: string, host: string, tenant = 't1') =>
    svc().createEndpoint({ tenantName: tenant, networkName: net, containerID: ctr, homingHost: host });

  before(async () => {
    env = await startEnv('agentapi-stream', 26100);
    server = await startServer(env);
    client = rawClient(server.address);
    await svc().upsert('tenant', { tenantName: 't1' });
    await svc().upsert('tenant', { tenantName: 't2' });
    await svc().upsert('network', N1);
    await svc().upsert('network', { tenantName: 't1', networkName: 'n2', subnet: '10.2.0.0/24', encap: 'vlan', pktTag: 100 });
    await svc().upsert('network', { tenantName: 't2', networkName: 'm1', subnet: '10.9.0.0/24', encap: 'vxlan', pktTag: 7001 });
    // hostB's agent gives its VTEP
    await server.registry.register({ host: 'hostB', vtepIp: '192.168.0.2', mgmtIp: '', capabilities: ['vxlan'], agentVersion: 'test' });
    await ep('n1', 'a1', 'hostA');
    await ep('n1', 'b1', 'hostB');
    await ep('n2', 'c1', 'hostC');
    await ep('m1', 'd1', 'hostD', 't2');
    await until('tenant ids', () => server!.cache.state.tenantIds.has('t1') && server!.cache.state.tenantIds.has('t2'));
    await serverCaughtUp();
  });

  after(async () => {
    for (const r of recorders) r.cancel();
    for (const c of clients) await c.stop();
    client?.close();
    await server?.stop();
    await stopEnv(env);
  });

  let lastMarker = '0';
  let rec: StreamRecorder;

  it('starts with a snapshot of exactly what the host needs, at the current revision', async () => {
    rec = new StreamRecorder(client!, 'hostA');
    recorders.push(rec);
    const [first] = await rec.nextGroup(0);
    assert.ok(first?.snapshot, 'first update is a snapshot');
    assert.equal(first.snapshot.reason, 'INITIAL');
    const current = await svc().currentRevision();
    assert.ok(BigInt(first.revision) > 0n && BigInt(first.revision) <= BigInt(current));
    const st = first.snapshot.state!;
    assert.deepEqual(
      st.networks.map((n) => [n.key, n.networkId]),
      [['t1:n1', 5001]],
    );
    assert.deepEqual(
      st.tenants.map((t) => t.name),
      ['t1'],
    );
    assert.ok(st.tenants[0]!.vrfId > 0 && st.tenants[0]!.ctZone === st.tenants[0]!.vrfId);
    assert.deepEqual(st.endpoints.map((e) => e.host).sort(), ['hostA', 'hostB']);
    assert.deepEqual(st.vteps, [{ host: 'hostB', vtepIp: '192.168.0.2' }]);
    assert.equal(st.global?.fwdMode, 'bridge');
    lastMarker = first.revision;
  });

  it('sends a change group tagged with the revision of the etcd change', async () => {
    const from = rec.updates.length;
    const created = await ep('n1', 'b2', 'hostB');
    const group = await rec.nextGroup(from);
    const rev = group[group.length - 1]!.revision;
    const stored = await env!.kv.get(`/netloom/v1/ep/${created.endpointID}`);
    assert.equal(rev, stored?.modRevision, 'tagged with the revision of the endpoint key');
    assert.deepEqual(
      group.slice(0, -1).map((u) => [u.change?.key, u.change?.deleted, u.revision]),
      [[`endpoint/${created.endpointID}`, false, rev]],
    );
    assert.equal(group[0]!.change?.endpoint?.ip, created.ipAddress);
    lastMarker = rev;
  });

  it('sends nothing for changes that do not touch the host view', async () => {
    const from = rec.updates.length;
    await ep('m1', 'd2', 'hostD', 't2');
    await ep('n2', 'c2', 'hostC');
    await svc().upsert('network', { tenantName: 't2', networkName: 'm2', subnet: '10.10.0.0/24', encap: 'vxlan', pktTag: 7002 });
    await sleep(600);
    // progress marks carry no state (an idle stream gets one when it falls behind the revision, as under load)
    const state = rec.updates.slice(from).filter((u) => u.kind !== 'progress');
    assert.deepEqual(state, [], `unexpected updates: ${JSON.stringify(state)}`);
  });

  it('resumes after a reconnect with exactly the changes missed', async () => {
    rec.cancel();
    const b2 = await svc().endpointsIn('net', 't1:n1');
    const gone = b2.find((e) => e.containerID === 'b2')!;
    await svc().deleteEndpoint(gone.endpointID);
    const added = await ep('n1', 'b3', 'hostB');
    await ep('m1', 'd3', 'hostD', 't2'); // unrelated
    const now = await svc().currentRevision();
    const again = new StreamRecorder(client!, 'hostA', lastMarker);
    recorders.push(again);
    const group = await again.nextGroup(0);
    const changes = group.slice(0, -1).map((u) => `${u.change?.deleted ? 'del' : 'put'} ${u.change?.key}`);
    assert.deepEqual(changes.sort(), [`del endpoint/${gone.endpointID}`, `put endpoint/${added.endpointID}`].sort());
    assert.equal(group[group.length - 1]!.revision, now, 'tagged with the current revision');
    assert.ok(group.every((u) => u.revision === now));
    rec = again;
    lastMarker = now;
  });

  it('answers a compacted resume revision with a fresh snapshot (COMPACTED)', async () => {
    const old = lastMarker;
    await ep('n1', 'b4', 'hostB');
    const rev = await svc().currentRevision();
    await env!.raw.kv.compact({ revision: rev, physical: true });
    const r = new StreamRecorder(client!, 'hostA', old);
    recorders.push(r);
    const [u] = await r.nextGroup(0);
    assert.equal(u?.snapshot?.reason, 'COMPACTED');
    assert.equal(u?.snapshot?.state?.endpoints.length, 4);
    r.cancel();
  });

  it('the client keeps the same state as the server view and resumes across a server restart', async () => {
    const c = new NetmasterClient({
      address: server!.address,
      host: 'hostA',
      vtepIp: '192.168.0.1',
      backoff: { initialMs: 50, maxMs: 200 },
    });
    clients.push(c);
    c.start();
    const expected = () => stableJson(computeHostView(server!.cache.state, 'hostA'));
    await until('client snapshot', () => c.revision !== '0');
    // the client's registration changes its own view (its endpoints get its VTEP) right after the
    // snapshot: wait for the state to settle on the server's view rather than compare at once
    const sameAsServer = async (what: string) => {
      await until(what, () => stableJson(c.state) === expected(), 10_000).catch(() => undefined);
      assert.equal(stableJson(c.state), expected(), what);
    };
    await sameAsServer('client state = server view after the snapshot');
    const a2 = await ep('n1', 'a2', 'hostA');
    await until('client has a2', () => c.state.endpoints.some((e) => e.id === a2.endpointID));
    await sameAsServer('client state = server view after a2');
    // restart the server on the same port; changes made while it is down arrive on resume
    const port = server!.port;
    const watching = new StreamRecorder(client!, 'hostB');
    recorders.push(watching);
    await watching.nextGroup(0);
    await server!.stop();
    await until('stream ended by the server stop', () => watching.ended);
    assert.equal(watching.error, undefined, 'ended cleanly (OK status), not with an error');
    await svc().upsert('network', { ...N1, ipv6Subnet: '' });
    const a3 = await ep('n1', 'a3', 'hostA');
    server = await startServer(env!, { listen: `127.0.0.1:${port}` });
    await until('client has a3 after reconnect', () => c.state.endpoints.some((e) => e.id === a3.endpointID), 10_000);
    assert.equal(c.stats.snapshots, 1, 'resumed without a new snapshot');
    assert.ok(c.stats.reconnects >= 1);
    await sameAsServer('client state = server view after the restart');
  });

  it('measures commit-to-agent latency of an endpoint create (20 creates)', async () => {
    const c = clients[0]!;
    const lat: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = process.hrtime.bigint();
      let seen: bigint | undefined;
      const onState = (st: typeof c.state) => {
        if (st.endpoints.some((x) => x.containerId === `lat${i}`)) seen ??= process.hrtime.bigint();
      };
      c.on('state', onState);
      await ep('n1', `lat${i}`, 'hostB');
      await until('client sees it', () => seen !== undefined, 5000);
      c.off('state', onState);
      lat.push(Number(seen! - t0) / 1e6);
    }
    lat.sort((a, b) => a - b);
    assert.equal(lat.length, 20);
    process.stdout.write(
      `      endpoint create -> agent state (incl. the create itself): p50 ${lat[10]!.toFixed(1)} ms, max ${lat[19]!.toFixed(1)} ms\n`,
    );
  });

  it('tenant ids are released when the tenant is gone, and the store consistency check sees no leak', async () => {
    const id = server!.cache.state.tenantIds.get('t2');
    assert.ok(id && id > 0);
    await svc().upsert('tenant', { tenantName: 't3' });
    await until('t3 id', () => server!.cache.state.tenantIds.get('t3'));
    assert.notEqual(server!.cache.state.tenantIds.get('t3'), id, 'unique');
    await svc().delete('tenant', 't3');
    await until('t3 id released', async () => (await env!.kv.list('/netloom/v1/agent/tenantid')).kvs.every((k) => !k.value.includes('t3')));
    const report = await svc().checkConsistency();
    assert.deepEqual(report.leaked, [], JSON.stringify(report.leaked));
  });

  it('a client that does not read gets the batches coalesced, then exactly the current view', async () => {
    await svc().upsert('network', { tenantName: 't1', networkName: 'wide', subnet: '10.50.0.0/20', encap: 'vxlan', pktTag: 5050 });
    await ep('wide', 'a-wide', 'hostA');
    const slow = new StreamRecorder(client!, 'hostA');
    recorders.push(slow);
    await slow.nextGroup(0);
    const snapshot = slow.updates[0]!.snapshot!.state!;
    slow.pause();
    // 1 KB of labels per endpoint (a label value is at most 253 characters)
    const big = 'x'.repeat(250);
    const labels = { big1: big, big2: big, big3: big, big4: big };
    const N = 300;
    for (let i = 0; i < N; i++)
      await svc().createEndpoint({ tenantName: 't1', networkName: 'wide', containerID: `slow${i}`, homingHost: 'hostB', labels });
    const now = await svc().currentRevision();
    // resume once the server has taken in every change: what it still owes the paused client is then coalesced
    await serverCaughtUp();
    slow.resume();
    // the marker of the last change, or of a later one (netmaster's own bookkeeping may write meanwhile)
    await until('caught up', () => slow.updates.some((u) => u.change?.key === '' && BigInt(u.revision) >= BigInt(now)), 10_000);
    const markers = slow.updates.filter((u) => u.change?.key === '');
    // rebuild the state from what was received
    const store = storeFromState(snapshot);
    for (const u of slow.updates) if (u.change && u.change.key !== '') applyChange(store, u.change);
    assert.equal(stableJson(stateOf(store)), stableJson(computeHostView(server!.cache.state, 'hostA')));
    assert.ok(markers.length < N / 2, `${markers.length} groups for ${N} batches: coalesced`);
    process.stdout.write(`      slow client: ${N} endpoint batches arrived as ${markers.length} groups\n`);
  });

  it('a network created without a tag reaches its hosts with the allocated tag (its config keeps 0)', async () => {
    await svc().upsert('network', { tenantName: 't1', networkName: 'auto', subnet: '10.51.0.0/24', encap: 'vlan' });
    const stored = await svc().get('network', 't1:auto');
    assert.equal(stored.config.pktTag, 0);
    const tag = Number(stored.oper.pktTag);
    assert.ok(tag >= 1 && tag <= 4094, `allocated VLAN ${tag}`);
    await ep('auto', 'e-auto', 'hostE');
    // the snapshot is the server's view when the stream opens: let it take in the endpoint first
    await serverCaughtUp();
    const r = new StreamRecorder(client!, 'hostE');
    recorders.push(r);
    const [first] = await r.nextGroup(0);
    assert.deepEqual(
      first?.snapshot?.state?.networks.map((n) => [n.key, n.pktTag, n.networkId]),
      [['t1:auto', tag, 0x1000000 | tag]],
    );
    // an update without a tag (here: NAT off) keeps the tag the host sees
    const from = r.updates.length;
    await svc().upsert('network', { tenantName: 't1', networkName: 'auto', subnet: '10.51.0.0/24', encap: 'vlan', nat: false });
    await until('the update streamed', () => r.updates.slice(from).some((u) => u.change?.key === 'network/t1:auto'));
    const change = r.updates.slice(from).find((u) => u.change?.key === 'network/t1:auto')?.change;
    assert.equal(change?.network?.nat, false);
    assert.equal(change?.network?.pktTag, tag);
  });
});
