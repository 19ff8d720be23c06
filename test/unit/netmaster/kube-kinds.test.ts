/**
 * The Kubernetes kinds' validation (issue 19): a NetworkPolicy or namespace the controller hands
 * over is checked with Kubernetes' own rules (names, label keys and values, selector operators,
 * ipBlock CIDRs with except inside, ports 1..65535, endPort >= port, TCP/UDP/SCTP, named port
 * syntax), each refusal naming the object and the field; a pod on an endpoint likewise.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { exceptProblem, kubeLabelKeyProblem, kubeLabelValueProblem, portNameProblem } from '../../../lib/kube-syntax';
import { checkKubeObject, checkNamespace, checkPolicy } from '../../../netmaster/kube/intent';
import { namespaceFromApi, policyFromApi } from '../../../netmaster/kube/from-api';
import { namespaceMessageOf, policyMessageOf } from '../../../netmaster/agent/kube-view';
import { endpointRequestSchema, endpointSchema } from '../../../netmaster/model/schemas';
import { checkKeyShape } from '../../../netmaster/model/keys';
import { parseWith } from '../../../lib/validation';
import { BODY_ERRORS } from '../../../netmaster/model/keys';

const sel = (matchLabels: Record<string, string> = {}, matchExpressions: unknown[] = []) => ({ matchLabels, matchExpressions });

function policy(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    namespace: 'prod',
    name: 'web-allow',
    podSelector: sel({ app: 'web' }),
    ingressIsolation: true,
    egressIsolation: true,
    ingress: [
      {
        peers: [{ namespaceSelector: sel({ env: 'prod' }), podSelector: sel({}, [{ key: 'tier', operator: 'In', values: ['fe'] }]) }],
        ports: [{ protocol: 'TCP', port: 80, endPort: 90 }, { protocol: 'UDP', namedPort: 'dns' }, { protocol: 'SCTP' }],
      },
    ],
    egress: [{ peers: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [] }],
    ...fields,
  };
}

/** The rule `fields` changed in ingress[0]. */
const ingress = (rule: Record<string, unknown>) => policy({ ingress: [rule] });

function refused(body: unknown, field: string, why: RegExp, kind: 'kubeNetworkPolicy' | 'kubeNamespace' = 'kubeNetworkPolicy'): void {
  assert.throws(
    () => checkKubeObject(kind, body),
    (e: unknown) => {
      assert.ok(e instanceof NetloomError, String(e));
      assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
      assert.equal(e.field, field, e.message);
      assert.match(e.message, why);
      return true;
    },
  );
}

describe('netmaster: the Kubernetes kinds', () => {
  it('a valid NetworkPolicy is stored normalized: defaults filled, key namespace:name', () => {
    const o = checkKubeObject('kubeNetworkPolicy', policy());
    assert.equal(o.key, 'prod:web-allow');
    assert.deepEqual(o.config.ingress[0]!.ports[2], { protocol: 'SCTP' });
    const min = checkKubeObject('kubeNetworkPolicy', { namespace: 'a', name: 'b', ingress: [{ ports: [{ port: 443 }] }] });
    assert.deepEqual(min.config, {
      namespace: 'a',
      name: 'b',
      podSelector: sel(),
      ingressIsolation: true,
      egressIsolation: false,
      ingress: [{ peers: [], ports: [{ protocol: 'TCP', port: 443 }] }],
      egress: [],
    });
    // a NetworkPolicy name may be a 253-character subdomain: its key is still addressable
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}`;
    assert.equal(checkKubeObject('kubeNetworkPolicy', policy({ name: long })).key, `prod:${long}`);
    checkKeyShape('kubeNetworkPolicy', `prod:${long}`);
  });

  it('names: a DNS-1123 label namespace, a DNS-1123 subdomain name', () => {
    refused(policy({ namespace: 'Prod' }), 'namespace', /Kubernetes NetworkPolicy Prod\/web-allow: namespace: .*DNS-1123 label/);
    refused(policy({ namespace: 'a'.repeat(64) }), 'namespace', /at most 63 characters/);
    refused(policy({ name: 'web_allow' }), 'name', /DNS-1123 subdomain/);
    refused(policy({ name: '' }), 'name', /must not be empty/);
    refused(policy({ name: undefined }), 'name', /name is required/);
  });

  it('selectors: operators, values by operator, label keys and values as Kubernetes has them', () => {
    const expr = (e: Record<string, unknown>) => policy({ podSelector: sel({}, [e]) });
    refused(
      expr({ key: 'tier', operator: 'Equals', values: ['x'] }),
      'podSelector.matchExpressions.0.operator',
      /In, NotIn, Exists or DoesNotExist/,
    );
    refused(expr({ key: 'tier', operator: 'In', values: [] }), 'podSelector.matchExpressions.0.values', /non-empty when operator is In/);
    refused(
      expr({ key: 'tier', operator: 'Exists', values: ['x'] }),
      'podSelector.matchExpressions.0.values',
      /empty when operator is Exists/,
    );
    refused(expr({ key: 'bad key', operator: 'Exists' }), 'podSelector.matchExpressions.0.key', /label key's name part/);
    refused(expr({ key: 'k', operator: 'NotIn', values: ['-x'] }), 'podSelector.matchExpressions.0.values.0', /a label value/);
    refused(
      policy({ podSelector: sel({ 'Example.com/app': 'web' }) }),
      'podSelector.matchLabels.Example.com/app',
      /prefix .*DNS-1123 subdomain/,
    );
    refused(policy({ podSelector: sel({ app: 'x'.repeat(64) }) }), 'podSelector.matchLabels.app', /no more than 63 characters/);
    refused(policy({ podSelector: sel({ app: 'a b' }) }), 'podSelector.matchLabels.app', /a label value is letters/);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    refused(policy({ podSelector: sel(many) }), 'podSelector.matchLabels', /at most 64 entries/);
    // accepted: prefixed keys, empty values, every operator
    checkKubeObject(
      'kubeNetworkPolicy',
      policy({
        podSelector: sel({ 'app.kubernetes.io/name': 'web', empty: '' }, [
          { key: 'a', operator: 'NotIn', values: ['x'] },
          { key: 'b', operator: 'DoesNotExist' },
        ]),
      }),
    );
  });

  it('peers: ipBlock with a CIDR and except strictly inside it, never with selectors; a peer names something', () => {
    const peer = (p: Record<string, unknown>) => ingress({ peers: [p] });
    refused(peer({ ipBlock: { cidr: '10.0.0.0/33' } }), 'ingress.0.peers.0.ipBlock.cidr', /must be a CIDR/);
    refused(
      peer({ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] } }),
      'ingress.0.peers.0.ipBlock.except.0',
      /strictly within cidr 10.0.0.0\/8/,
    );
    refused(peer({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }), 'ingress.0.peers.0.ipBlock.except.0', /strictly within/);
    refused(peer({ ipBlock: { cidr: '10.0.0.0/8', except: ['fd00::/64'] } }), 'ingress.0.peers.0.ipBlock.except.0', /address family/);
    refused(peer({ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: sel() }), 'ingress.0.peers.0.ipBlock', /may not be combined/);
    refused(peer({}), 'ingress.0.peers.0', /podSelector, namespaceSelector or ipBlock/);
    checkKubeObject('kubeNetworkPolicy', peer({ ipBlock: { cidr: 'fd00::/48', except: ['fd00:0:0:1::/64'] } }));
  });

  it('ports: 1..65535, endPort >= port and only with a port, TCP/UDP/SCTP, named ports as IANA_SVC_NAME', () => {
    const port = (p: Record<string, unknown>) => ingress({ ports: [p] });
    refused(port({ port: 0 }), 'ingress.0.ports.0.port', /between 1 and 65535/);
    refused(port({ port: 65536 }), 'ingress.0.ports.0.port', /between 1 and 65535/);
    refused(port({ port: 80, endPort: 79 }), 'ingress.0.ports.0.endPort', /greater than or equal to port \(80\)/);
    refused(port({ endPort: 90 }), 'ingress.0.ports.0.endPort', /needs a numeric port/);
    refused(port({ namedPort: 'http', endPort: 90 }), 'ingress.0.ports.0.endPort', /needs a numeric port/);
    refused(port({ port: 80, namedPort: 'http' }), 'ingress.0.ports.0.namedPort', /may not both be set/);
    refused(port({ protocol: 'ICMP', port: 1 }), 'ingress.0.ports.0.protocol', /TCP, UDP or SCTP/);
    for (const bad of ['HTTP', 'a--b', '-ab', 'ab-', '1234', 'a'.repeat(16), ''])
      refused(port({ namedPort: bad }), 'ingress.0.ports.0.namedPort', /port name|at most 15 characters/);
    checkKubeObject('kubeNetworkPolicy', port({ namedPort: 'web-8080' }));
    checkKubeObject('kubeNetworkPolicy', port({ port: 1000, endPort: 1000 }));
  });

  it('bounds: rules, peers and ports are lists of at most 256; the whole object at most 64 KiB', () => {
    refused(policy({ ingress: Array.from({ length: 257 }, () => ({})) }), 'ingress', /at most 256 entries/);
    refused(ingress({ ports: Array.from({ length: 257 }, () => ({ port: 1 })) }), 'ingress.0.ports', /at most 256/);
    const values = Array.from({ length: 250 }, (_, i) => `v${i}-${'x'.repeat(55)}`);
    const big = policy({
      podSelector: sel(
        {},
        Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, operator: 'In', values })),
      ),
    });
    refused(big, 'podSelector', /more than the limit of 65536/);
    refused('not an object', 'body', /JSON object/);
  });

  it('namespaces: a DNS-1123 label name, Kubernetes labels, the automatic kubernetes.io/metadata.name label set to the name', () => {
    const ns = checkKubeObject('kubeNamespace', { name: 'prod', labels: { env: 'prod' } });
    assert.deepEqual(ns, { key: 'prod', config: { name: 'prod', labels: { env: 'prod', 'kubernetes.io/metadata.name': 'prod' } } });
    assert.deepEqual(checkKubeObject('kubeNamespace', { name: 'x', labels: { 'kubernetes.io/metadata.name': 'other' } }).config.labels, {
      'kubernetes.io/metadata.name': 'x',
    });
    refused({ name: 'Prod' }, 'name', /DNS-1123 label/, 'kubeNamespace');
    refused({ name: 'prod', labels: { 'a/b/c': 'x' } }, 'labels.a/b/c', /label key/, 'kubeNamespace');
    refused({ name: 'prod', labels: 'env=prod' }, 'labels', /object of strings/, 'kubeNamespace');
  });

  it('a pod on an endpoint: namespace and name as Kubernetes names, named ports checked, stored as given', () => {
    const body = { networkName: 'n1', containerID: 'c1' };
    const pod = { namespace: 'prod', name: 'web-0', uid: '0b8a', namedPorts: [{ name: 'http', port: 8080 }] };
    const req = parseWith(endpointRequestSchema, { ...body, pod }, BODY_ERRORS);
    assert.deepEqual(req.pod, { ...pod, namedPorts: [{ name: 'http', protocol: 'TCP', port: 8080 }] });
    assert.equal(parseWith(endpointRequestSchema, body, BODY_ERRORS).pod, undefined);
    const bad = (p: Record<string, unknown>, field: string, why: RegExp) =>
      assert.throws(
        () => parseWith(endpointRequestSchema, { ...body, pod: { ...pod, ...p } }, BODY_ERRORS),
        (e: unknown) => e instanceof NetloomError && e.field === field && why.test(e.message),
      );
    bad({ namespace: 'Prod' }, 'pod.namespace', /DNS-1123 label/);
    bad({ name: 'web_0' }, 'pod.name', /DNS-1123 subdomain/);
    bad({ namedPorts: [{ name: 'http--x', port: 80 }] }, 'pod.namedPorts.0.name', /'--'/);
    bad({ namedPorts: [{ name: 'http', port: 0 }] }, 'pod.namedPorts.0.port', /between 1 and 65535/);
    bad({ namedPorts: [{ name: 'http', port: 80, protocol: 'icmp' }] }, 'pod.namedPorts.0.protocol', /TCP, UDP or SCTP/);
    // the stored record keeps it (and stored values without one stay valid)
    assert.equal(endpointSchema.shape.pod.safeParse(req.pod).success, true);
  });

  it("Kubernetes' syntax rules", () => {
    assert.equal(kubeLabelKeyProblem('app.kubernetes.io/name'), undefined);
    assert.match(kubeLabelKeyProblem('/name') ?? '', /prefix/);
    assert.match(kubeLabelKeyProblem('x/') ?? '', /must not be empty/);
    assert.equal(kubeLabelValueProblem(''), undefined);
    assert.match(kubeLabelValueProblem('a.') ?? '', /starting and ending/);
    assert.equal(portNameProblem('h2c'), undefined);
    assert.match(portNameProblem('42') ?? '', /at least one letter/);
    assert.equal(exceptProblem('10.0.0.0/8', '10.255.0.0/16'), undefined);
    assert.match(exceptProblem('10.0.0.0/16', '10.1.0.0/24') ?? '', /strictly within/);
  });

  it("the controller's messages (from-api.ts) are stored and come back to the agents exactly as they were", () => {
    const np = policyFromApi({
      metadata: { namespace: 'x', name: 'p' },
      spec: {
        podSelector: { matchLabels: { pod: 'a' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            _from: [
              { namespaceSelector: {} },
              {
                podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] },
                namespaceSelector: { matchLabels: { ns: 'y' } },
              },
              { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
            ],
            ports: [{ port: 80 }, { port: 'serve-81-udp', protocol: 'UDP' }, { port: 8000, endPort: 8080 }, { protocol: 'SCTP' }],
          },
          {},
        ],
        egress: [{ to: [{ podSelector: {} }] }],
      },
    });
    const stored = checkPolicy(np);
    assert.equal(stored.key, 'x:p');
    assert.deepEqual(policyMessageOf({ config: stored.config }), np);
    const ns = namespaceFromApi({ metadata: { name: 'y', labels: { team: 'a' } } });
    assert.deepEqual(namespaceMessageOf({ config: checkNamespace(ns).config }), ns);
  });

  it("a message's problems name the field as in the message; its key must be namespace/name", () => {
    const np = policyFromApi({
      metadata: { namespace: 'x', name: 'p' },
      spec: { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] },
    });
    assert.throws(
      () => checkPolicy(np),
      (e: unknown) =>
        e instanceof NetloomError && e.field === 'ingress.0.ports.0.endPort' && /^Kubernetes NetworkPolicy x\/p: /.test(e.message),
    );
    const ok = policyFromApi({ metadata: { namespace: 'x', name: 'p' }, spec: { podSelector: {} } });
    assert.throws(
      () => checkPolicy({ ...ok, key: 'x/q' }),
      (e: unknown) =>
        e instanceof NetloomError &&
        e.field === 'key' &&
        /Kubernetes NetworkPolicy x\/q: key x\/q is not namespace\/name \(x\/p\)/.test(e.message),
    );
    assert.throws(
      () => checkNamespace({ key: 'Bad', labels: {} }),
      (e: unknown) => e instanceof NetloomError && e.field === 'name',
    );
  });
});
