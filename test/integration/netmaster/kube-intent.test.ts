/**
 * Kubernetes intent end to end on a real etcd, a real netmaster (REST + agent API) and raw agent
 * streams (issue 19): a pod endpoint made through CreateEndpoint and one registered through
 * SyncEndpoints carry their pod; NetworkPolicies and namespaces put through the service API reach
 * the host that has a pod endpoint (in its snapshot and as incremental Changes, deletes with their
 * key) and never the host without one; REST and netctl read them and refuse writes (405); a
 * relist deletes what is no longer there; a restart of netmaster loses nothing. Private etcd on
 * 27190; names start with `ki`.
 */
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../../lib/logger';
import { endpointId } from '../../../lib/endpoint-id';
import { NetloomError } from '../../../lib/errors';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { runCli } from '../../unit/netctl/run-cli';
import { namespaceFromApi, policyFromApi } from '../../../netmaster/kube/from-api';
import { rawClient, StreamRecorder, until } from '../agent-api/support';
import type { AgentClient } from '../../../proto/gen/netloom/v1/Agent';
import type { Change__Output } from '../../../proto/gen/netloom/v1/Change';
import type { Endpoint__Output } from '../../../proto/gen/netloom/v1/Endpoint';
import type { AddressBlock__Output } from '../../../proto/gen/netloom/v1/AddressBlock';
import type { SyncEndpointsResponse__Output } from '../../../proto/gen/netloom/v1/SyncEndpointsResponse';

type Json = Record<string, unknown>;

function rpc<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r as Res))));
}

/** The objects a stream holds now: its snapshot's lists, then every change applied in order. */
function held(rec: StreamRecorder): Map<string, Change__Output> {
  const out = new Map<string, Change__Output>();
  let inSnapshot = false;
  for (const u of rec.updates) {
    const s = u.snapshot?.state;
    if (s) {
      // a snapshot replaces everything (its parts add up)
      if (!inSnapshot) out.clear();
      inSnapshot = u.snapshot?.more === true;
      for (const p of s.kubePolicies)
        out.set(`kubePolicy/${p.key}`, { deleted: false, key: `kubePolicy/${p.key}`, kubePolicy: p } as Change__Output);
      for (const n of s.kubeNamespaces)
        out.set(`kubeNamespace/${n.key}`, { deleted: false, key: `kubeNamespace/${n.key}`, kubeNamespace: n } as Change__Output);
      for (const e of s.endpoints) out.set(`endpoint/${e.id}`, { deleted: false, key: `endpoint/${e.id}`, endpoint: e } as Change__Output);
      for (const n of s.networks) out.set(`network/${n.key}`, { deleted: false, key: `network/${n.key}` } as Change__Output);
    }
    const c = u.change;
    if (c?.key) {
      if (c.deleted) out.delete(c.key);
      else out.set(c.key, c);
    }
  }
  return out;
}

const kubeKeys = (rec: StreamRecorder): string[] => [...held(rec).keys()].filter((k) => k.startsWith('kube')).sort();
/** every change key a stream received (puts and deletes) */
const changeKeys = (rec: StreamRecorder): string[] => rec.updates.flatMap((u) => (u.change?.key ? [u.change.key] : []));

/** A NetworkPolicy as the API serves it, as the controller hands it over (from-api.ts). */
const webPolicy = (port: number | string = 8080, name = 'web', endPort?: number) =>
  policyFromApi({
    metadata: { namespace: 'ki-prod', name },
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{ _from: [{ namespaceSelector: { matchLabels: { env: 'prod' } } }], ports: [{ port, ...(endPort ? { endPort } : {}) }] }],
    },
  });
const namespace = (name: string, labels: Record<string, string> = {}) => namespaceFromApi({ metadata: { name, labels } });

describe('netmaster: Kubernetes intent (real etcd, netmaster, agent streams)', function () {
  this.timeout(90_000);
  let etcd: EtcdFixture | undefined;
  let nm: RunningNetmaster | undefined;
  let client: AgentClient | undefined;
  const recorders: StreamRecorder[] = [];
  const logger = createLogger('kube-intent-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });
  let podEp: Endpoint__Output;

  const start = async (): Promise<RunningNetmaster> =>
    startNetmaster({
      etcdEndpoints: [etcd!.endpoint],
      logger,
      agent: {
        grpcListen: '127.0.0.1:0',
        agentLeaseTtlSeconds: 10,
        deadHostGraceMs: 600_000,
        leaderLeaseTtlSeconds: 10,
        replicaId: 'ki-r0',
      },
    });

  const stream = (host: string): StreamRecorder => {
    const r = new StreamRecorder(client!, host);
    recorders.push(r);
    return r;
  };

  async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json; allow: string | null }> {
    const res = await fetch(`${nm!.url}/api/v1/${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as Json, allow: res.headers.get('allow') };
  }

  before(async () => {
    etcd = await startTestEtcd('ki-kube-intent', 27190);
    nm = await start();
    client = rawClient(nm.agent!.server.address);
    const svc = nm.service;
    await svc.upsert('tenant', { tenantName: 'ki' });
    await svc.upsert('network', { tenantName: 'ki', networkName: 'web', subnet: '10.91.0.0/24', gateway: '10.91.0.1', encap: 'vxlan' });
    await svc.upsert('network', { tenantName: 'ki', networkName: 'db', subnet: '10.92.0.0/24', gateway: '10.92.0.1', encap: 'vxlan' });
    for (const [host, vtepIp] of [
      ['ki-pod', '192.168.91.1'],
      ['ki-plain', '192.168.91.2'],
      ['ki-db', '192.168.91.3'],
    ] as const)
      await rpc(client.register.bind(client), { host, vtepIp, mgmtIp: '', capabilities: ['vxlan'], agentVersion: 't' });
  });

  after(async () => {
    for (const r of recorders) r.cancel();
    client?.close();
    await nm?.stop().catch(() => undefined);
    await etcd?.stop();
  });

  it('CreateEndpoint records the pod (checked, the field named); endpoint inspect and netctl show it', async () => {
    const req = {
      host: 'ki-pod',
      tenant: 'ki',
      network: 'web',
      containerId: 'ki-c1',
      idempotencyKey: 'ki-c1',
      labels: { app: 'web' },
      pod: { namespace: 'ki-prod', name: 'web-0', uid: 'u-1', namedPorts: [{ name: 'http', protocol: 'TCP', port: 8080 }] },
    };
    podEp = await rpc<object, Endpoint__Output>(client!.createEndpoint.bind(client), req);
    assert.deepEqual(podEp.pod, req.pod);
    await assert.rejects(
      rpc(client!.createEndpoint.bind(client), {
        ...req,
        containerId: 'ki-bad',
        idempotencyKey: 'ki-bad',
        pod: { ...req.pod, namespace: 'KI' },
      }),
      (e: grpc.ServiceError) => /pod\.namespace/.test(e.details) && e.code === 3,
    );
    await nm!.service.createEndpoint({ tenantName: 'ki', networkName: 'web', containerID: 'ki-plain1', homingHost: 'ki-plain' });
    const inspect = await runCli(['--netmaster', nm!.url, 'endpoint', 'inspect', podEp.id]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.deepEqual((JSON.parse(inspect.stdout) as { Oper: { pod: unknown } }).Oper.pod, req.pod);
  });

  it("SyncEndpoints registers a pod endpoint from a block with its pod: the views of the tenant's pods get it with its network", async () => {
    const block = await rpc<object, AddressBlock__Output>(client!.claimBlock.bind(client), {
      host: 'ki-db',
      network: 'ki:db',
      claimId: 'ki-k1',
    });
    const ip = block.cidr.replace(/\.\d+\/\d+$/, `.${Number(block.cidr.split('.')[3]!.split('/')[0]) + 2}`);
    const id = endpointId('ki:db', 'ki-db1');
    const r = await rpc<object, SyncEndpointsResponse__Output>(client!.syncEndpoints.bind(client), {
      host: 'ki-db',
      deregister: [],
      register: [
        {
          id,
          tenant: 'ki',
          network: 'db',
          idempotencyKey: 'ki-db1',
          containerId: 'ki-db1',
          ip,
          mac: '02:00:5b:00:00:01',
          labels: { app: 'db' },
          pod: { namespace: 'ki-prod', name: 'db-0', uid: 'u-2', namedPorts: [] },
        },
      ],
    });
    assert.equal(r.registered[0]?.outcome, 'OK', r.registered[0]?.message);
    assert.deepEqual((await nm!.service.getEndpoint(id)).pod, { namespace: 'ki-prod', name: 'db-0', uid: 'u-2', namedPorts: [] });
    const pod = stream('ki-pod');
    await until(
      'the db pod and its network in the view of ki-pod',
      () => held(pod).has(`endpoint/${id}`) && held(pod).has('network/ki:db'),
      10_000,
    );
    assert.equal((held(pod).get(`endpoint/${id}`)?.endpoint as Endpoint__Output).pod?.name, 'db-0');
  });

  it('a policy and a namespace reach the host with a pod (snapshot and Changes, deletes by key), never the host without', async () => {
    const kube = nm!.service.kube;
    const pod = recorders[0]!;
    const plain = stream('ki-plain');
    await plain.nextGroup(0);
    assert.deepEqual(kubeKeys(pod), [], 'nothing stored yet');
    await kube.putPolicy(webPolicy());
    assert.equal((await nm!.service.get('kubeNetworkPolicy', 'ki-prod:web')).config.name, 'web');
    await kube.putNamespace(namespace('ki-prod', { env: 'prod' }));
    await kube.putPolicy(webPolicy(8080, 'old'));
    await until('ki-pod holds them', () => kubeKeys(pod).length === 3, 10_000);
    assert.deepEqual(kubeKeys(pod), ['kubeNamespace/ki-prod', 'kubePolicy/ki-prod/old', 'kubePolicy/ki-prod/web']);
    const ns = held(pod).get('kubeNamespace/ki-prod')?.kubeNamespace;
    assert.deepEqual(ns, { key: 'ki-prod', labels: { env: 'prod', 'kubernetes.io/metadata.name': 'ki-prod' } });
    const p = held(pod).get('kubePolicy/ki-prod/web')?.kubePolicy;
    assert.deepEqual(p?.ingress[0]?.ports, [{ protocol: 'TCP', port: 8080, namedPort: '', endPort: 0 }]);
    assert.deepEqual(p?.ingress[0]?.peers[0]?.namespaceSelector, { matchLabels: { env: 'prod' }, matchExpressions: [] });
    assert.equal(p?.ingress[0]?.peers[0]?.podSelector, null);

    // idempotent: the same object again writes nothing
    const rev = await nm!.service.currentRevision();
    await kube.putPolicy(webPolicy());
    await kube.putNamespace(namespace('ki-prod', { env: 'prod' }));
    assert.equal(await nm!.service.currentRevision(), rev);
    // a bad object is refused naming the field, nothing written
    await assert.rejects(kube.putPolicy(webPolicy(80, 'web', 70)), (e: unknown) => {
      assert.ok(e instanceof NetloomError);
      assert.equal(e.field, 'ingress.0.ports.0.endPort');
      assert.match(e.message, /^Kubernetes NetworkPolicy ki-prod\/web: ingress\.0\.ports\.0\.endPort: endPort must be greater/);
      return true;
    });
    assert.equal(await nm!.service.currentRevision(), rev);

    // a change is one Change; a delete a Change with deleted and the key
    const from = pod.updates.length;
    await kube.putPolicy(webPolicy(9090));
    const group = await pod.nextGroup(from);
    assert.deepEqual(
      group.filter((u) => u.change?.key).map((u) => [u.change!.key, u.change!.kubePolicy?.ingress[0]?.ports[0]?.port]),
      [['kubePolicy/ki-prod/web', 9090]],
    );
    const del = pod.updates.length;
    await kube.deletePolicy('ki-prod/old');
    const afterDelete = await nm!.service.currentRevision();
    await kube.deletePolicy('ki-prod/old');
    assert.equal(await nm!.service.currentRevision(), afterDelete, 'deleting what is gone is no error and no write');
    await assert.rejects(kube.deletePolicy('ki-prod:old'), /namespace\/name/);
    const gone = (await pod.nextGroup(del)).filter((u) => u.change?.key);
    assert.deepEqual(
      gone.map((u) => [u.change!.key, u.change!.deleted]),
      [['kubePolicy/ki-prod/old', true]],
    );
    // the host without pods: a change of its own arrives, and no Kubernetes key ever did
    await nm!.service.createEndpoint({ tenantName: 'ki', networkName: 'web', containerID: 'ki-plain2', homingHost: 'ki-plain' });
    await until(
      'ki-plain saw its own endpoint',
      () => held(plain).size > 0 && changeKeys(plain).some((k) => k.startsWith('endpoint/')),
      10_000,
    );
    assert.deepEqual(kubeKeys(plain), []);
    assert.equal(changeKeys(plain).filter((k) => k.startsWith('kube')).length, 0);
    assert.equal(held(plain).has('network/ki:db'), false, 'nor the pods of other networks');

    // a new stream of the pod host gets them in its snapshot
    const fresh = stream('ki-pod');
    const snap = (await fresh.nextGroup(0)).find((u) => u.snapshot)!.snapshot!.state!;
    assert.deepEqual(
      snap.kubePolicies.map((x) => x.key),
      ['ki-prod/web'],
    );
    assert.deepEqual(
      snap.kubeNamespaces.map((x) => x.key),
      ['ki-prod'],
    );
    assert.ok(snap.endpoints.some((e) => e.id === podEp.id && e.pod?.name === 'web-0'));
  });

  it('REST and netctl read them; a write over REST is 405 naming the Kubernetes API', async () => {
    const list = await rest('GET', 'kubeNetworkPolicies/');
    assert.equal(list.status, 200);
    assert.deepEqual(
      (list.json as unknown as Json[]).map((o) => [o.key, o.namespace, o.name]),
      [['ki-prod:web', 'ki-prod', 'web']],
    );
    const one = await rest('GET', 'inspect/kubeNetworkPolicies/ki-prod:web/');
    assert.equal(one.status, 200);
    assert.equal((one.json.Config as Json).name, 'web');
    assert.equal((await rest('GET', 'kubeNamespaces/ki-prod/')).status, 200);
    for (const [method, path] of [
      ['POST', 'kubeNetworkPolicies/ki-prod:web/'],
      ['PUT', 'kubeNetworkPolicies/ki-prod:x/'],
      ['DELETE', 'kubeNetworkPolicies/ki-prod:web/'],
      ['POST', 'kubeNamespaces/ki-prod/'],
      ['DELETE', 'kubeNamespaces/ki-prod/'],
    ] as const) {
      const r = await rest(method, path, method === 'DELETE' ? undefined : webPolicy());
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.allow, 'GET');
      assert.match(String(r.json.error), /read-only here: their source is the Kubernetes API/);
    }
    assert.equal((await rest('GET', 'kubeNetworkPolicies/ki-prod:web/')).status, 200, 'still there');
    // the OpenAPI document offers no write, the objects gauge counts them
    const doc = (await rest('GET', 'openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(doc.paths['/api/v1/kubeNetworkPolicies/{key}/']!).sort(), ['get', 'parameters']);
    const metrics = await (await fetch(`${nm!.url}/metrics`)).text();
    assert.match(metrics, /netmaster_objects\{type="kubeNetworkPolicy"\} 1\n/);
    const ls = await runCli(['--netmaster', nm!.url, 'kube', 'policy', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^Namespace +Name +Ingress +Egress\n-+ +-+ +-+ +-+\nki-prod +web +true +false\n$/);
    const nsls = await runCli(['--netmaster', nm!.url, 'kube', 'ns', 'ls']);
    assert.match(nsls.stdout, /\nki-prod +env=prod,kubernetes\.io\/metadata\.name=ki-prod\n$/);
    const insp = await runCli(['--netmaster', nm!.url, 'kube', 'policy', 'inspect', 'ki-prod/web']);
    assert.equal(insp.code, 0, insp.stderr);
    assert.equal((JSON.parse(insp.stdout) as { Config: Json }).Config.namespace, 'ki-prod');
  });

  it('a relist (replaceAll) puts what differs, deletes what is no longer listed, refuses bad objects (their stored version stays)', async () => {
    const kube = nm!.service.kube;
    const pod = recorders[0]!;
    await kube.putPolicy(webPolicy(8080, 'stale'));
    await kube.putPolicy(webPolicy(8080, 'keep'));
    await until('stale reached ki-pod', () => kubeKeys(pod).includes('kubePolicy/ki-prod/stale'), 10_000);
    const broken = {
      ...webPolicy(8080, 'keep'),
      podSelector: { matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'Equals', values: [] }] },
    };
    const r = await kube.replaceAll('kubeNetworkPolicy', [webPolicy(9090), webPolicy(8080, 'new'), broken, webPolicy(8080, 'new')]);
    assert.deepEqual([r.put, r.deleted, r.unchanged], [1, 1, 1], 'new written, stale deleted, web unchanged');
    assert.deepEqual(
      r.refused.map((x) => [x.key, (x.error as NetloomError).field]),
      [
        ['ki-prod/keep', 'podSelector.matchExpressions.0.operator'],
        ['ki-prod/new', 'key'],
      ],
      'the bad object, and the second of a key listed twice',
    );
    assert.match((r.refused[0]!.error as Error).message, /^Kubernetes NetworkPolicy ki-prod\/keep: podSelector/);
    const refused = await kube.replacePolicies([webPolicy(9090), webPolicy(8080, 'new'), broken]);
    assert.deepEqual(
      refused.map((x) => x.key),
      ['ki-prod/keep'],
    );
    const kept = await nm!.service.get('kubeNetworkPolicy', 'ki-prod:keep');
    assert.deepEqual(kept.config.podSelector.matchExpressions, [], 'the stored version stays');
    await kube.deletePolicy('ki-prod/keep');
    await until(
      'ki-pod holds the relisted set',
      () =>
        kubeKeys(pod)
          .filter((k) => k.startsWith('kubePolicy/'))
          .join() === 'kubePolicy/ki-prod/new,kubePolicy/ki-prod/web',
      10_000,
    );
    assert.ok(changeKeys(pod).includes('kubePolicy/ki-prod/stale'), 'its delete came as a Change');
    const again = await kube.replaceAll('kubeNetworkPolicy', [webPolicy(9090), webPolicy(8080, 'new')]);
    assert.deepEqual([again.put, again.deleted, again.unchanged, again.refused], [0, 0, 2, []], 'a relist of the same is no write');
    // namespaces too, more than one transaction's worth, with a concurrent writer: the transaction
    // it races fails whole, the relist reads again and finishes (each object counted once)
    const many = Array.from({ length: 150 }, (_, i) => namespace(`ki-ns${i}`, { i: String(i) }));
    const kv = nm!.service.kv;
    const commit = kv.commit.bind(kv);
    let commits = 0;
    kv.commit = async (guards, writes) => {
      if (++commits === 2) await kube.putNamespace(namespace('ki-ns140', { racing: 'yes' }));
      return commit(guards, writes);
    };
    let nsr: Awaited<ReturnType<typeof kube.replaceAll>>;
    try {
      nsr = await kube.replaceAll('kubeNamespace', many);
    } finally {
      kv.commit = commit;
    }
    assert.ok(commits > 3, `retried after the race (${commits} commits)`);
    assert.deepEqual([nsr.put, nsr.deleted, nsr.unchanged, nsr.refused], [150, 1, 0, []], 'ki-prod is gone');
    assert.deepEqual((await nm!.service.get('kubeNamespace', 'ki-ns140')).config.labels, {
      i: '140',
      'kubernetes.io/metadata.name': 'ki-ns140',
    });
    assert.equal((await nm!.service.list('kubeNamespace')).length, 150);
    await until('ki-pod holds 150 namespaces', () => kubeKeys(pod).filter((k) => k.startsWith('kubeNamespace/')).length === 150, 15_000);
  });

  it('a restart of netmaster loses nothing: REST and a new stream of the pod host have every object', async () => {
    for (const r of recorders) r.cancel();
    client!.close();
    await nm!.stop();
    nm = await start();
    client = rawClient(nm.agent!.server.address);
    assert.equal((await nm.service.list('kubeNetworkPolicy')).length, 2);
    assert.equal(((await rest('GET', 'kubeNamespaces/')).json as unknown as Json[]).length, 150);
    const pod = stream('ki-pod');
    const parts = [];
    for (let from = 0; ; ) {
      const g = await pod.nextGroup(from);
      parts.push(...g);
      from += g.length;
      if (!g.at(-1)?.snapshot?.more) break;
    }
    const states = parts.flatMap((u) => (u.snapshot?.state ? [u.snapshot.state] : []));
    assert.deepEqual(
      states.flatMap((s) => s.kubePolicies.map((p) => p.key)),
      ['ki-prod/new', 'ki-prod/web'],
    );
    assert.equal(states.flatMap((s) => s.kubeNamespaces).length, 150);
    assert.ok(states.flatMap((s) => s.endpoints).some((e) => e.id === podEp.id && e.pod?.uid === 'u-1'));
  });
});
