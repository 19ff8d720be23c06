import assert from 'node:assert/strict';
import type { JsonObject } from '../../../tools/kube-apiserver/json';
import { PatchError, strategicMergePatch } from '../../../tools/kube-apiserver/patch/strategic-merge';

const pod = (containers: JsonObject[], extra: JsonObject = {}): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: { containers, ...extra },
});
const names = (o: JsonObject): unknown => ((o.spec as JsonObject).containers as JsonObject[]).map((c) => c.name);

describe('strategic merge patch (as apimachinery applies it on the server)', () => {
  it('merges maps and deletes keys patched to null', () => {
    const out = strategicMergePatch(
      { metadata: { name: 'p', labels: { a: '1', b: '2' } } },
      { metadata: { labels: { b: null, c: '3' }, annotations: { x: 'y' } } },
      'V1Pod',
    );
    assert.deepEqual(out, { metadata: { name: 'p', labels: { a: '1', c: '3' }, annotations: { x: 'y' } } });
  });

  it('merges lists with a merge key by it (containers by name, their ports by containerPort, env by name), keeping server-only items', () => {
    const out = strategicMergePatch(
      pod([
        { name: 'a', image: 'a:1', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'X', value: '1' }] },
        { name: 'b', image: 'b:1' },
      ]),
      {
        spec: {
          containers: [
            {
              name: 'a',
              image: 'a:2',
              ports: [{ containerPort: 80, protocol: 'UDP' }, { containerPort: 81 }],
              env: [{ name: 'Y', value: '2' }],
            },
          ],
        },
      },
      'V1Pod',
    );
    assert.deepEqual((out.spec as JsonObject).containers, [
      {
        name: 'a',
        image: 'a:2',
        ports: [{ containerPort: 80, name: 'http', protocol: 'UDP' }, { containerPort: 81 }],
        // without $setElementOrder, apimachinery puts an item the server lacks before the server's own
        env: [
          { name: 'Y', value: '2' },
          { name: 'X', value: '1' },
        ],
      },
      { name: 'b', image: 'b:1' },
    ]);
  });

  it('replaces lists without a patch strategy (args, tolerations, NetworkPolicy rules)', () => {
    const out = strategicMergePatch(
      pod([{ name: 'a', args: ['x', 'y'] }], { tolerations: [{ key: 'k' }] }),
      { spec: { containers: [{ name: 'a', args: ['z'] }], tolerations: [{ key: 'j' }] } },
      'V1Pod',
    );
    assert.deepEqual(((out.spec as JsonObject).containers as JsonObject[])[0]?.args, ['z']);
    assert.deepEqual((out.spec as JsonObject).tolerations, [{ key: 'j' }]);
    const np = strategicMergePatch(
      { spec: { ingress: [{ ports: [{ port: 80 }] }, { ports: [{ port: 81 }] }] } },
      { spec: { ingress: [{ ports: [{ port: 82 }] }] } },
      'V1NetworkPolicy',
    );
    assert.deepEqual(np, { spec: { ingress: [{ ports: [{ port: 82 }] }] } });
  });

  it('deletes list items with `$patch: delete` and replaces a list with `$patch: replace`', () => {
    const base = pod([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    assert.deepEqual(names(strategicMergePatch(base, { spec: { containers: [{ name: 'b', $patch: 'delete' }] } }, 'V1Pod')), ['a', 'c']);
    assert.deepEqual(names(strategicMergePatch(base, { spec: { containers: [{ name: 'z' }, { $patch: 'replace' }] } }, 'V1Pod')), ['z']);
  });

  it('replaces or deletes a map with `$patch`', () => {
    const base = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    assert.deepEqual(strategicMergePatch(base, { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } }, 'V1Deployment'), {
      spec: { strategy: { type: 'Recreate' } },
    });
    assert.deepEqual(strategicMergePatch(base, { spec: { strategy: { rollingUpdate: { $patch: 'delete' } } } }, 'V1Deployment'), {
      spec: { strategy: { type: 'RollingUpdate', rollingUpdate: {} } },
    });
  });

  it('orders a merged list by `$setElementOrder`, server-only items staying where the server had them', () => {
    const base = pod([{ name: 'a' }, { name: 's' }, { name: 'b' }, { name: 'c' }]);
    const out = strategicMergePatch(
      base,
      {
        spec: {
          '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }, { name: 'n' }],
          containers: [
            { name: 'n', image: 'new' },
            { name: 'b', $patch: 'delete' },
          ],
        },
      },
      'V1Pod',
    );
    // apimachinery's merge of the two sorted lists: 's' comes before 'c' on the server, so before it here
    assert.deepEqual(names(out), ['s', 'c', 'a', 'n']);
  });

  it('treats lists of primitives with the merge strategy as sets: union, `$deleteFromPrimitiveList`, `$setElementOrder`', () => {
    const base = { metadata: { name: 'p', finalizers: ['a', 'b', 'c'] } };
    assert.deepEqual(strategicMergePatch(base, { metadata: { finalizers: ['c', 'd'] } }, 'V1Pod'), {
      metadata: { name: 'p', finalizers: ['a', 'b', 'c', 'd'] },
    });
    assert.deepEqual(strategicMergePatch(base, { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'x'] } }, 'V1Pod'), {
      metadata: { name: 'p', finalizers: ['a', 'c'] },
    });
    assert.deepEqual(strategicMergePatch(base, { metadata: { '$setElementOrder/finalizers': ['c', 'a', 'b'] } }, 'V1Pod'), {
      metadata: { name: 'p', finalizers: ['c', 'a', 'b'] },
    });
  });

  it('clears the union members a `$retainKeys` patch leaves out (a Deployment switching to Recreate)', () => {
    const out = strategicMergePatch(
      { spec: { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } } },
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      'V1Deployment',
    );
    assert.deepEqual(out, { spec: { replicas: 1, strategy: { type: 'Recreate' } } });
    assert.throws(
      () =>
        strategicMergePatch(
          { spec: { strategy: {} } },
          { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } },
          'V1Deployment',
        ),
      PatchError,
    );
  });

  it("applies kubectl apply's three-way patch of a Deployment (a container replaced, an env entry dropped)", () => {
    const live: JsonObject = {
      metadata: { name: 'server', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'old' } },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'main',
                image: 'agnhost:2.43',
                env: [
                  { name: 'A', value: '1' },
                  { name: 'B', value: '2' },
                ],
                imagePullPolicy: 'IfNotPresent',
              },
              { name: 'sidecar', image: 'pause:3.9' },
            ],
          },
        },
      },
    };
    const patch: JsonObject = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'new' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'main' }, { name: 'logger' }],
            containers: [
              { '$setElementOrder/env': [{ name: 'B' }], env: [{ $patch: 'delete', name: 'A' }], image: 'agnhost:2.45', name: 'main' },
              { image: 'pause:3.10', name: 'logger' },
              { $patch: 'delete', name: 'sidecar' },
            ],
          },
        },
      },
    };
    const out = strategicMergePatch(live, patch, 'V1Deployment');
    assert.deepEqual(((out.spec as JsonObject).template as JsonObject).spec, {
      containers: [
        { name: 'main', image: 'agnhost:2.45', env: [{ name: 'B', value: '2' }], imagePullPolicy: 'IfNotPresent' },
        { image: 'pause:3.10', name: 'logger' },
      ],
    });
    assert.equal(((out.metadata as JsonObject).annotations as JsonObject)['kubectl.kubernetes.io/last-applied-configuration'], 'new');
    assert.equal(
      ((live.spec as JsonObject).template as JsonObject) !== undefined && JSON.stringify(live).includes('sidecar'),
      true,
      'the original is not changed',
    );
  });

  it('refuses patches it cannot apply', () => {
    assert.throws(
      () => strategicMergePatch(pod([{ name: 'a' }]), { spec: { containers: [{ image: 'x' }] } }, 'V1Pod'),
      /does not contain declared merge key: name/,
    );
    assert.throws(() => strategicMergePatch(pod([]), { spec: { $patch: 'merge' } }, 'V1Pod'), /unknown patch type: merge/);
    assert.throws(
      () =>
        strategicMergePatch(
          pod([{ name: 'a' }, { name: 'b' }]),
          { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'b' }] } },
          'V1Pod',
        ),
      /doesn't match \$setElementOrder list/,
    );
  });
});
