/**
 * The kubelet stand-in's pod sync against a fake CRI and a fake API: a bound pod is run with the
 * kubelet's calls and its status written (Running, podIP from the sandbox, hostIP, the four
 * conditions, containerStatuses); pods of other nodes are ignored; an unchanged status is not
 * written again; a pod with deletionTimestamp is stopped (StopContainer, StopPodSandbox) and removed
 * before its delete with the UID; a pod gone from the API loses its sandboxes; reconcile at start
 * removes the sandboxes of pods the API no longer has and keeps the others; a failed
 * RunPodSandbox is reported on the pod and retried.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { createLogger } from '../../../lib/logger';
import { Kubelet, type KubeletApi } from '../../../tools/kubelet/kubelet';
import { podSpecFromApi } from '../../../tools/kubelet/pod-spec';
import { runningStatus, sameStatus } from '../../../tools/kubelet/pod-status';
import { FakeCri } from '../../support/fake-cri';
import { FakeClock } from '../../support/fake-clock';

class FakeApi implements KubeletApi {
  readonly statuses: Array<{ pod: string; status: V1PodStatus }> = [];
  readonly deletes: Array<{ pod: string; uid: string }> = [];
  patchPodStatus(namespace: string, name: string, status: V1PodStatus): Promise<void> {
    this.statuses.push({ pod: `${namespace}/${name}`, status });
    return Promise.resolve();
  }
  deletePod(namespace: string, name: string, uid: string): Promise<void> {
    this.deletes.push({ pod: `${namespace}/${name}`, uid });
    return Promise.resolve();
  }
}

function pod(name: string, uid: string, o: { node?: string; deleting?: boolean; status?: V1PodStatus } = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'x',
      uid,
      labels: { pod: name },
      annotations: { 'netloom.io/group': 'web' },
      ...(o.deleting ? { deletionTimestamp: new Date(0) } : {}),
    },
    spec: {
      nodeName: o.node ?? 'host1',
      terminationGracePeriodSeconds: 3,
      containers: [
        {
          name: 'agnhost',
          image: 'netloom.local/agnhost:1.0',
          args: ['serve', '--port', '80'],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          ports: [{ name: 'serve-80-tcp', containerPort: 80, protocol: 'TCP' }],
        },
      ],
    },
    ...(o.status ? { status: o.status } : {}),
  };
}

describe('kubelet stand-in: pod sync through the CRI', () => {
  let dir: string;
  let cri: FakeCri;
  let api: FakeApi;
  let clock: FakeClock;
  let kubelet: Kubelet;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ke-kubelet-'));
    cri = new FakeCri();
    api = new FakeApi();
    clock = new FakeClock(Date.UTC(2026, 0, 1));
    kubelet = new Kubelet({
      nodeName: 'host1',
      hostIp: '192.0.2.1',
      node: { logRoot: dir, cgroupRoot: '/ke' },
      cri,
      api,
      logger: createLogger('test', { level: 'silent' }),
      retry: { initialMs: 1000, maxMs: 1000, jitter: 0 },
      clock,
    });
  });
  afterEach(async () => {
    await kubelet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a bound pod with the kubelet calls and writes its Running status', async () => {
    kubelet.podUpdated(pod('a', 'u1'));
    await kubelet.idle();
    assert.deepEqual(
      cri.calls.filter((c) => /^(RunPodSandbox|CreateContainer|StartContainer)/.test(c)),
      ['RunPodSandbox x/a', 'CreateContainer agnhost', 'StartContainer c2'],
    );
    const sb = [...cri.sandboxes.values()][0]!;
    assert.equal(sb.labels['io.kubernetes.pod.uid'], 'u1');
    assert.equal(sb.labels.pod, 'a');
    assert.equal(sb.annotations['netloom.io/group'], 'web');
    assert.equal(api.statuses.length, 1);
    const s = api.statuses[0]!.status;
    assert.equal(s.phase, 'Running');
    assert.equal(s.podIP, sb.ip);
    assert.deepEqual(s.podIPs, [{ ip: sb.ip }]);
    assert.equal(s.hostIP, '192.0.2.1');
    assert.deepEqual(
      s.conditions?.map((c) => `${c.type}=${c.status}`),
      ['PodScheduled=True', 'Initialized=True', 'ContainersReady=True', 'Ready=True'],
    );
    assert.equal(s.containerStatuses?.[0]?.containerID, 'containerd://c2');
    assert.equal(s.containerStatuses?.[0]?.ready, true);
    assert.equal(kubelet.counts.started, 1);
  });

  it('ignores pods of other nodes and does not rewrite an unchanged status', async () => {
    kubelet.podUpdated(pod('other', 'u9', { node: 'host2' }));
    kubelet.podUpdated(pod('a', 'u1'));
    await kubelet.idle();
    assert.equal(cri.sandboxes.size, 1);
    // the watch brings the pod back with the status just written: nothing more to do
    kubelet.podUpdated(pod('a', 'u1', { status: api.statuses[0]!.status }));
    await kubelet.idle();
    assert.equal(api.statuses.length, 1);
    assert.equal(cri.calls.filter((c) => c.startsWith('RunPodSandbox')).length, 1);
  });

  it('a pod being deleted: containers and sandbox stopped, removed, then deleted with its UID', async () => {
    kubelet.podUpdated(pod('a', 'u1'));
    await kubelet.idle();
    const before = cri.calls.length;
    kubelet.podUpdated(pod('a', 'u1', { deleting: true }));
    await kubelet.idle();
    const calls = cri.calls.slice(before).filter((c) => /^(Stop|Remove)/.test(c));
    assert.deepEqual(calls, ['StopContainer c2 3', 'StopPodSandbox sb1', 'RemoveContainer c2', 'RemovePodSandbox sb1']);
    assert.equal(cri.sandboxes.size, 0);
    assert.deepEqual(api.deletes, [{ pod: 'x/a', uid: 'u1' }]);
  });

  it('a pod gone from the API loses its sandboxes', async () => {
    kubelet.podUpdated(pod('a', 'u1'));
    await kubelet.idle();
    kubelet.podDeleted(pod('a', 'u1'));
    await kubelet.idle();
    assert.equal(cri.sandboxes.size, 0);
    assert.ok(cri.calls.includes('StopPodSandbox sb1'));
    assert.equal(api.deletes.length, 0);
  });

  it('reconcile at start: sandboxes of pods the API lost are removed, the others kept', async () => {
    const kept = cri.addSandbox('u1', 'a');
    const orphan = cri.addSandbox('u-gone', 'gone');
    const removed = await kubelet.reconcile([pod('a', 'u1')]);
    await kubelet.idle();
    assert.deepEqual(removed, ['u-gone']);
    assert.ok(cri.sandboxes.has(kept), 'the live pod keeps its sandbox');
    assert.ok(!cri.sandboxes.has(orphan));
    assert.equal(cri.calls.filter((c) => c.startsWith('RunPodSandbox')).length, 0, 'a running pod is not made again');
    assert.equal(api.statuses[0]?.status.podIP, cri.sandboxes.get(kept)!.ip);
  });

  it('a failed RunPodSandbox is reported on the pod and retried after the backoff', async () => {
    cri.failNext('RunPodSandbox', 'CNI ADD failed: no network');
    kubelet.podUpdated(pod('a', 'u1'));
    await kubelet.idle();
    assert.equal(kubelet.counts.failures, 1);
    const failed = api.statuses[0]!.status;
    assert.equal(failed.phase, 'Pending');
    const ready = failed.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.match(ready?.message ?? '', /CNI ADD failed/);
    clock.advance(1000);
    await kubelet.idle();
    assert.equal(api.statuses.at(-1)?.status.phase, 'Running');
    assert.equal(cri.sandboxes.size, 1);
  });
});

describe('kubelet stand-in: the pod as the CRI calls read it', () => {
  it('takes metadata, containers, literal env and ports; a missing image names the field', () => {
    const spec = podSpecFromApi(pod('a', 'u1'));
    assert.equal(spec.uid, 'u1');
    assert.deepEqual(spec.containers[0]?.env, { A: '1' });
    assert.deepEqual(spec.containers[0]?.ports, [{ name: 'serve-80-tcp', containerPort: 80, protocol: 'TCP' }]);
    assert.equal(spec.terminationGracePeriodSeconds, 3);
    const bad = pod('a', 'u1');
    delete bad.spec!.containers[0]!.image;
    assert.throws(
      () => podSpecFromApi(bad),
      (e: Error & { field?: string }) => e.field === 'spec.containers[0].image',
    );
  });

  it('a condition keeps its transition time while its status stays', () => {
    const c = [{ name: 'agnhost', id: 'c1', image: 'i', running: true }];
    const first = runningStatus(undefined, { podIp: '10.0.0.1', hostIp: 'h', containers: c, nowMs: 1_000_000 });
    const later = runningStatus(first, { podIp: '10.0.0.1', hostIp: 'h', containers: c, nowMs: 9_000_000 });
    assert.deepEqual(
      later.conditions?.map((x) => x.lastTransitionTime),
      first.conditions?.map((x) => x.lastTransitionTime),
    );
    assert.ok(sameStatus(first, later));
    const stopped = runningStatus(first, { podIp: '10.0.0.1', hostIp: 'h', containers: [{ ...c[0]!, running: false }], nowMs: 9_000_000 });
    assert.equal(stopped.phase, 'Pending');
    assert.ok(!sameStatus(first, stopped));
  });
});
