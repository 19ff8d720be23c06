/**
 * The API server stand-in driven by Debian's kubectl 1.20 as a cluster admin drives a cluster:
 * real YAML manifests applied (client-side apply: create, then strategic merge patches),
 * `get -o json`, label, annotate, server dry runs, selectors, deletes; a bad NetworkPolicy
 * refused with the real server's 422; anonymous requests refused. Real etcd.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';

const SRC = resolve(__dirname, '../../../../test/integration/kube-apiserver');
const MANIFESTS = `${SRC}/manifests`;

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  items?: Obj[];
}

describe('kube-apiserver stand-in with kubectl', function () {
  let etcd: EtcdFixture;
  let api: KubeApiFixture;
  const getJson = async (...args: string[]): Promise<Obj> => JSON.parse((await api.kubectl(['get', ...args, '-o', 'json'])).stdout) as Obj;

  before(async function () {
    etcd = await startTestEtcd('ka-kubectl', 27410);
    // namespaces stay Terminating 5 s: kubectl delete -f must reach their objects first even on a loaded machine
    api = await startKubeApi({
      name: 'ka-kubectl',
      etcdEndpoint: etcd.endpoint,
      port: 27413,
      extraArgs: ['--namespace-deletion-delay', '5'],
    });
  });
  after(async function () {
    await api?.stop();
    await etcd?.stop();
  });

  it('applies a directory of manifests as a cluster admin would, and a second apply changes nothing', async function () {
    const first = await api.kubectl(['apply', '-f', MANIFESTS]);
    for (const line of [
      'namespace/ka-x created',
      'pod/a created',
      'networkpolicy.networking.k8s.io/allow-from-y created',
      'service/web created',
      'service/web-np created',
      'deployment.apps/server created',
      'clusterrole.rbac.authorization.k8s.io/ka-netloom created',
      'rolebinding.rbac.authorization.k8s.io/events created',
    ])
      assert.ok(first.stdout.includes(line), `${line} in:\n${first.stdout}`);
    const again = await api.kubectl(['apply', '-f', MANIFESTS]);
    for (const line of [
      'namespace/ka-x unchanged',
      'pod/a unchanged',
      'service/web unchanged',
      'deployment.apps/server unchanged',
      'clusterrolebinding.rbac.authorization.k8s.io/ka-netloom unchanged',
    ])
      assert.ok(again.stdout.includes(line), `${line} in:\n${again.stdout}`);
  });

  it('fills what the server owns: uid, creationTimestamp, resourceVersion, generation, defaults, the namespace name label, a ClusterIP and NodePort', async function () {
    const ns = await getJson('namespace', 'ka-x');
    assert.equal(ns.metadata.labels?.['kubernetes.io/metadata.name'], 'ka-x');
    assert.equal(ns.metadata.labels?.team, 'x');
    assert.equal((ns.status as { phase?: string }).phase, 'Active');
    const pod = await getJson('pod', 'a', '-n', 'ka-x');
    assert.match(pod.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(pod.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(pod.metadata.resourceVersion ?? '', /^\d+$/);
    assert.equal((pod.status as { phase?: string }).phase, 'Pending');
    assert.equal((pod.spec as { restartPolicy?: string }).restartPolicy, 'Always');
    const np = await getJson('networkpolicy', 'allow-from-y', '-n', 'ka-x');
    assert.equal(np.metadata.generation, 1);
    const ports = (
      (np.spec as { ingress: Array<{ ports: Array<Record<string, unknown>> }> }).ingress[0] as { ports: Array<Record<string, unknown>> }
    ).ports;
    assert.deepEqual(ports, [
      { port: 'serve-80', protocol: 'TCP' },
      { port: 8000, endPort: 8080, protocol: 'UDP' },
    ]);
    const svc = await getJson('service', 'web', '-n', 'ka-x');
    const spec = svc.spec as { clusterIP: string; clusterIPs: string[]; ports: Array<{ targetPort: unknown }>; type: string };
    assert.match(spec.clusterIP, /^10\.96\.\d+\.\d+$/);
    assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
    assert.equal(spec.type, 'ClusterIP');
    assert.equal(spec.ports[0]?.targetPort, 'serve-80');
    const np2 = await getJson('service', 'web-np', '-n', 'ka-x');
    assert.equal((np2.spec as { ports: Array<{ nodePort: number }> }).ports[0]?.nodePort, 30081);
    const all = await getJson('pods', '-n', 'ka-x');
    assert.equal(all.kind, 'List');
    assert.deepEqual(all.items?.map((p) => p.metadata.name).sort(), ['a', 'b']);
  });

  it('applies a changed manifest as a strategic merge patch: containers merge by name, removed fields go, generation counts', async function () {
    const before = await getJson('deployment', 'server', '-n', 'ka-x');
    assert.equal(before.metadata.generation, 1);
    const changed = readFileSync(`${MANIFESTS}/40-deployment.yaml`, 'utf8')
      .replace('agnhost:2.43', 'agnhost:2.45')
      .replace('            - {name: A, value: "1"}\n', '')
      .replace(
        '        - name: sidecar\n          image: registry.k8s.io/pause:3.9\n',
        '        - name: logger\n          image: registry.k8s.io/pause:3.10\n',
      );
    writeFileSync(`${api.dir}/deployment.yaml`, changed);
    const out = await api.kubectl(['apply', '-f', `${api.dir}/deployment.yaml`]);
    assert.match(out.stdout, /deployment.apps\/server configured/);
    const after = await getJson('deployment', 'server', '-n', 'ka-x');
    assert.equal(after.metadata.generation, 2);
    assert.equal(after.metadata.uid, before.metadata.uid);
    const containers = (after.spec as { template: { spec: { containers: Array<{ name: string; image: string; env?: unknown }> } } })
      .template.spec.containers;
    assert.deepEqual(
      containers.map((c) => [c.name, c.image]),
      [
        ['main', 'registry.k8s.io/e2e-test-images/agnhost:2.45'],
        ['logger', 'registry.k8s.io/pause:3.10'],
      ],
    );
    assert.deepEqual(containers[0]?.env, [{ name: 'B', value: '2' }]);
  });

  it('labels and annotates (add, overwrite, remove) and selects by labels and fields', async function () {
    await api.kubectl(['label', 'pod', 'a', '-n', 'ka-x', 'tier=web']);
    await api.kubectl(['annotate', 'pod', 'a', '-n', 'ka-x', 'note=hello']);
    const refused = await api.kubectl(['label', 'pod', 'a', '-n', 'ka-x', 'tier=db'], { allowFailure: true });
    assert.notEqual(refused.code, 0, 'an existing label is not overwritten without --overwrite');
    await api.kubectl(['label', 'pod', 'a', '-n', 'ka-x', 'tier=db', '--overwrite']);
    let pod = await getJson('pod', 'a', '-n', 'ka-x');
    assert.equal(pod.metadata.labels?.tier, 'db');
    assert.equal(pod.metadata.annotations?.note, 'hello');
    const names = async (...args: string[]): Promise<string> =>
      (await api.kubectl(['get', 'pods', '-A', ...args, '-o', 'jsonpath={range .items[*]}{.metadata.name} {end}'])).stdout.trim();
    assert.equal(await names('-l', 'tier=db'), 'a');
    assert.equal(await names('-l', 'tier in (web,db),pod!=b'), 'a');
    assert.equal(await names('-l', '!tier'), 'b');
    assert.equal(await names('-l', 'pod,tier notin (db)'), 'b');
    assert.equal(await names('--field-selector', 'metadata.name=b'), 'b');
    assert.equal(await names('--field-selector', 'status.phase=Pending,metadata.namespace=ka-x'), 'a b');
    const bad = await api.kubectl(['get', 'pods', '-A', '--field-selector', 'spec.nope=1'], { allowFailure: true });
    assert.match(bad.stderr, /field label not supported: spec.nope/);
    await api.kubectl(['label', 'pod', 'a', '-n', 'ka-x', 'tier-']);
    await api.kubectl(['annotate', 'pod', 'a', '-n', 'ka-x', 'note-']);
    pod = await getJson('pod', 'a', '-n', 'ka-x');
    assert.equal(pod.metadata.labels?.tier, undefined);
    assert.equal(pod.metadata.annotations?.note, undefined);
  });

  it('updates with optimistic concurrency: a stale resourceVersion gets 409 Conflict, a write that changes nothing keeps the version', async function () {
    const path = '/api/v1/namespaces/ka-x/pods/b';
    const cur = (await api.request('GET', path)).json as Obj;
    const changed = { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, v: '1' } } };
    const first = await api.request('PUT', path, { body: changed });
    assert.equal(first.status, 200);
    assert.notEqual((first.json as Obj).metadata.resourceVersion, cur.metadata.resourceVersion);
    const stale = await api.request('PUT', path, { body: { ...changed, metadata: { ...changed.metadata, labels: { v: '2' } } } });
    assert.equal(stale.status, 409);
    assert.deepEqual(stale.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Operation cannot be fulfilled on pods "b": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'b', kind: 'pods' },
      code: 409,
    });
    const again = await api.request('PUT', path, { body: first.json });
    assert.equal(
      (again.json as Obj).metadata.resourceVersion,
      (first.json as Obj).metadata.resourceVersion,
      'nothing changed, nothing written',
    );
    // patches: one naming a stale version conflicts, a JSON patch can test the version, one without applies to the latest
    const oldRv = cur.metadata.resourceVersion;
    const merge = { contentType: 'application/merge-patch+json' };
    const staleMerge = await api.request('PATCH', path, { ...merge, body: { metadata: { resourceVersion: oldRv, labels: { v: '3' } } } });
    assert.equal(staleMerge.status, 409);
    const tested = await api.request('PATCH', path, {
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: oldRv },
        { op: 'add', path: '/metadata/labels/v', value: '4' },
      ],
    });
    assert.equal(tested.status, 422);
    assert.match((tested.json as { message: string }).message, /test failed/);
    const latest = await api.request('PATCH', path, { ...merge, body: { metadata: { labels: { v: '5' } } } });
    assert.equal(latest.status, 200);
    assert.equal((latest.json as Obj).metadata.labels?.v, '5');
    const ssa = await api.request('PATCH', path, { contentType: 'application/apply-patch+yaml', body: 'metadata: {}' });
    assert.equal(ssa.status, 415);
    const dup = await api.request('POST', '/api/v1/namespaces/ka-x/pods', { body: { ...cur, metadata: { name: 'b' } } });
    assert.equal(dup.status, 409);
    assert.equal((dup.json as { reason: string }).reason, 'AlreadyExists');
  });

  it('writes status only through the status subresource, and only status there', async function () {
    const path = '/api/v1/namespaces/ka-x/pods/a';
    const cur = (await api.request('GET', path)).json as Obj;
    const main = await api.request('PUT', path, { body: { ...cur, status: { phase: 'Running', podIP: '10.9.9.9' } } });
    assert.equal((main.json as Obj).status?.phase, 'Pending', 'the main resource keeps the stored status');
    const viaStatus = await api.request('PUT', `${path}/status`, {
      body: {
        ...(main.json as Obj),
        metadata: { ...(main.json as Obj).metadata, labels: { changed: 'no' } },
        status: { phase: 'Running', podIP: '10.9.9.9' },
      },
    });
    assert.equal(viaStatus.status, 200);
    const after = (await api.request('GET', path)).json as Obj;
    assert.deepEqual(after.status, { phase: 'Running', podIP: '10.9.9.9' });
    assert.equal(after.metadata.labels?.changed, undefined, 'the status subresource changes only the status');
    const patched = await api.request('PATCH', `${path}/status`, {
      contentType: 'application/merge-patch+json',
      body: { status: { phase: 'Pending' } },
    });
    assert.equal((patched.json as Obj).status?.phase, 'Pending');
    const noStatus = await api.request('GET', '/api/v1/namespaces/ka-x/configmaps/x/status');
    assert.equal(noStatus.status, 404);
  });

  it("prints the server's Tables for kubectl get (columns per resource, -o wide, watches)", async function () {
    const pods = await api.kubectl(['get', 'pods', '-n', 'ka-x']);
    assert.match(pods.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    assert.match(pods.stdout, /\na\s+0\/2\s+Pending\s+0\s+\d+s\n/);
    const svc = await api.kubectl(['get', 'services', '-n', 'ka-x', '-o', 'wide']);
    assert.match(svc.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR\n/);
    assert.match(svc.stdout, /\nweb-np\s+NodePort\s+10\.96\.\d+\.\d+\s+<none>\s+81:30081\/TCP\s+\S+\s+pod=a\n/);
    const table = await api.request('GET', '/apis/networking.k8s.io/v1/namespaces/ka-x/networkpolicies', {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    const t = table.json as {
      kind: string;
      columnDefinitions: Array<{ name: string }>;
      rows: Array<{ cells: unknown[]; object: { kind: string } }>;
    };
    assert.equal(t.kind, 'Table');
    assert.deepEqual(
      t.columnDefinitions.map((c) => c.name),
      ['Name', 'Pod-Selector', 'Age'],
    );
    assert.deepEqual(t.rows[0]?.cells.slice(0, 2), ['allow-from-y', 'pod=a']);
    assert.equal(t.rows[0]?.object.kind, 'PartialObjectMetadata');
    const watch = await api.request('GET', '/api/v1/namespaces/ka-x/pods?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Da', {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    const event = JSON.parse(watch.text.split('\n')[0] ?? '') as {
      type: string;
      object: { kind: string; rows: Array<{ cells: unknown[] }> };
    };
    assert.equal(event.type, 'ADDED');
    assert.equal(event.object.kind, 'Table');
    assert.equal(event.object.rows[0]?.cells[0], 'a');
  });

  it('deletes a collection by selector (deletecollection)', async function () {
    for (const n of ['dc-1', 'dc-2', 'dc-keep'])
      await api.request('POST', '/api/v1/namespaces/ka-x/configmaps', {
        body: { metadata: { name: n, labels: { dc: n === 'dc-keep' ? 'no' : 'yes' } } },
      });
    const res = await api.request('DELETE', '/api/v1/namespaces/ka-x/configmaps?labelSelector=dc%3Dyes');
    assert.equal(res.status, 200);
    assert.deepEqual(
      (res.json as Obj).items?.map((i) => i.metadata.name),
      ['dc-1', 'dc-2'],
    );
    const left = await api.kubectl(['get', 'configmaps', '-n', 'ka-x', '-l', 'dc', '-o', 'name']);
    assert.equal(left.stdout.trim(), 'configmap/dc-keep');
  });

  it('refuses an invalid NetworkPolicy with 422 Invalid naming the field, as the real server does', async function () {
    const out = await api.kubectl(['apply', '-f', `${SRC}/bad/bad-cidr.yaml`], { allowFailure: true });
    assert.notEqual(out.code, 0);
    assert.match(
      out.stderr,
      /The NetworkPolicy "bad-cidr" is invalid: spec.ingress\[0\].from\[0\].ipBlock.cidr: Invalid value: "10.0.0.0\/33": must be a valid CIDR value/,
    );
    const res = await api.request('POST', '/apis/networking.k8s.io/v1/namespaces/ka-x/networkpolicies', {
      body: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'bad-ports' },
        spec: {
          podSelector: { matchExpressions: [{ key: 'pod', operator: 'Exists', values: ['x'] }] },
          ingress: [
            {
              ports: [{ port: 'serve--80' }, { port: 90, endPort: 80, protocol: 'ICMP' }],
              from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }],
            },
          ],
        },
      },
    });
    assert.equal(res.status, 422);
    const status = res.json as {
      kind: string;
      reason: string;
      code: number;
      details: { kind: string; group: string; causes: Array<{ field: string; reason: string }> };
    };
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'Invalid');
    assert.equal(status.details.kind, 'NetworkPolicy');
    assert.equal(status.details.group, 'networking.k8s.io');
    assert.deepEqual(
      status.details.causes.map((c) => [c.field, c.reason]),
      [
        ['spec.podSelector.matchExpressions[0].values', 'FieldValueForbidden'],
        ['spec.ingress[0].ports[0].port', 'FieldValueInvalid'],
        ['spec.ingress[0].ports[1].protocol', 'FieldValueNotSupported'],
        ['spec.ingress[0].ports[1].endPort', 'FieldValueInvalid'],
        ['spec.ingress[0].from[0].ipBlock.except[0]', 'FieldValueInvalid'],
      ],
    );
    const gone = await api.kubectl(['get', 'networkpolicies', '-n', 'ka-x', '-o', 'name']);
    assert.equal(gone.stdout.trim(), 'networkpolicy.networking.k8s.io/allow-from-y');
  });

  it('honours a requested ClusterIP and NodePort, and refuses taken ones with 422', async function () {
    const svc = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { ports: [{ port: 80 }], ...spec },
    });
    const ok = await api.request('POST', '/api/v1/namespaces/ka-y/services', { body: svc('fixed', { clusterIP: '10.96.200.10' }) });
    assert.equal(ok.status, 201, ok.text);
    const taken = await api.request('POST', '/api/v1/namespaces/ka-y/services', { body: svc('again', { clusterIP: '10.96.200.10' }) });
    assert.equal(taken.status, 422);
    assert.match(
      (taken.json as { message: string }).message,
      /spec.clusterIPs: Invalid value: \["10.96.200.10"\]: failed to allocate IP 10.96.200.10: provided IP is already allocated/,
    );
    const outside = await api.request('POST', '/api/v1/namespaces/ka-y/services', { body: svc('outside', { clusterIP: '10.0.0.1' }) });
    assert.equal(outside.status, 422);
    assert.match((outside.json as { message: string }).message, /not in the valid range. The range of valid IPs is 10.96.0.0\/16/);
    const port = await api.request('POST', '/api/v1/namespaces/ka-y/services', {
      body: svc('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 30081 }] }),
    });
    assert.equal(port.status, 422);
    assert.match(
      (port.json as { message: string }).message,
      /spec.ports\[0\].nodePort: Invalid value: 30081: provided port is already allocated/,
    );
  });

  it('runs a server dry run (kubectl apply --dry-run=server) without writing anything', async function () {
    const manifest = [
      'apiVersion: v1',
      'kind: Namespace',
      'metadata: {name: ka-dry}',
      '---',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: c, namespace: ka-x}',
      'data: {k: v}',
    ].join('\n');
    writeFileSync(`${api.dir}/dry.yaml`, manifest);
    const rv = (await getJson('namespaces')).metadata.resourceVersion;
    const out = await api.kubectl(['apply', '--dry-run=server', '-f', `${api.dir}/dry.yaml`]);
    assert.match(out.stdout, /namespace\/ka-dry created \(server dry run\)/);
    assert.match(out.stdout, /configmap\/c created \(server dry run\)/);
    const ns = await api.kubectl(['get', 'namespace', 'ka-dry'], { allowFailure: true });
    assert.match(ns.stderr, /namespaces "ka-dry" not found/);
    const label = await api.kubectl(['label', 'pod', 'b', '-n', 'ka-x', 'dry=run', '--dry-run=server', '-o', 'json']);
    assert.equal((JSON.parse(label.stdout) as Obj).metadata.labels?.dry, 'run');
    assert.equal((await getJson('pod', 'b', '-n', 'ka-x')).metadata.labels?.dry, undefined);
    assert.equal((await getJson('namespaces')).metadata.resourceVersion, rv, 'no revision was written');
  });

  it('refuses anonymous requests with a 401 Status', async function () {
    const res = await api.request('GET', '/api/v1/namespaces', { token: null });
    assert.equal(res.status, 401);
    assert.deepEqual(res.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const wrong = await api.request('GET', '/api/v1/namespaces', { token: 'guess' });
    assert.equal(wrong.status, 401);
  });

  it('deletes what the manifests made (kubectl delete -f): the namespace first, Terminating until the objects in it are gone', async function () {
    await api.kubectl(['apply', '-f', `${MANIFESTS}/50-rbac.yaml`]);
    await api.kubectl(['delete', 'namespace', 'ka-y', '--wait=false']);
    const ns = (await getJson('namespace', 'ka-y')) as Obj & { status: { phase: string } };
    assert.equal(ns.status.phase, 'Terminating');
    const refused = await api.request('POST', '/api/v1/namespaces/ka-y/configmaps', { body: { metadata: { name: 'late' } } });
    assert.equal(refused.status, 403);
    assert.match(
      (refused.json as { message: string }).message,
      /unable to create new content in namespace ka-y because it is being terminated/,
    );
    // ka-y, deleted above, may be gone already
    const out = await api.kubectl(['delete', '-f', MANIFESTS, '--ignore-not-found']);
    for (const line of [
      'namespace "ka-x" deleted',
      'pod "a" deleted',
      'service "web" deleted',
      'deployment.apps "server" deleted',
      'clusterrolebinding.rbac.authorization.k8s.io "ka-netloom" deleted',
    ])
      assert.ok(out.stdout.includes(line), `${line} in:\n${out.stdout}`);
    for (const [kind, name] of [
      ['namespace', 'ka-x'],
      ['namespace', 'ka-y'],
      ['clusterrole', 'ka-netloom'],
    ]) {
      const gone = await api.kubectl(['get', kind as string, name as string], { allowFailure: true });
      assert.match(gone.stderr, /not found/);
    }
    const pods = await api.kubectl(['get', 'pods', '-A', '-o', 'name']);
    assert.equal(pods.stdout.trim(), '');
  });
});
