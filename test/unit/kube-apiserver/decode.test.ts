import assert from 'node:assert/strict';
import { DecodeError, decodeModel } from '../../../tools/kube-apiserver/schema/decode';

describe("request bodies decoded as the server's types", () => {
  it('drops unknown fields and nulls at every depth, keeps maps and free-form values', () => {
    const out = decodeModel(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', labels: { a: 'b' }, bogus: 1, annotations: null },
        spec: { containers: [{ name: 'c', image: 'i', contaners: [], ports: [{ containerPort: 80, nme: 'x' }] }], $setElementOrder: [] },
        extra: true,
      },
      'V1Pod',
    );
    assert.deepEqual(out, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { a: 'b' } },
      spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] },
    });
  });

  it('takes an int or a string for IntOrString fields', () => {
    const np = { spec: { ingress: [{ ports: [{ port: 80 }, { port: 'http' }] }] } };
    assert.deepEqual(decodeModel(np, 'V1NetworkPolicy'), np);
  });

  it('refuses a value of the wrong JSON type, naming the field', () => {
    assert.throws(
      () => decodeModel({ spec: { containers: [{ name: 'c', ports: [{ containerPort: '80' }] }] } }, 'V1Pod'),
      (e: unknown) =>
        e instanceof DecodeError &&
        /cannot unmarshal string into Go struct field spec.containers.ports.containerPort of type int32/.test(e.message),
    );
    assert.throws(
      () => decodeModel({ metadata: { labels: { a: true } } }, 'V1Pod'),
      /cannot unmarshal boolean into Go struct field metadata.labels of type string/,
    );
    assert.throws(
      () => decodeModel({ spec: { containers: {} } }, 'V1Pod'),
      /cannot unmarshal object into Go struct field spec.containers of type array/,
    );
    assert.throws(() => decodeModel({ spec: { ingress: [{ ports: [{ port: 1.5 }] }] } }, 'V1NetworkPolicy'), /intstr.IntOrString/);
  });
});
