/**
 * The agent's side of the Kubernetes contract: parseHostState accepts KubeNetworkPolicy,
 * KubeNamespace and Endpoint.pod as they come off the wire (absent messages as null, absent vs
 * empty selectors kept, the API's default protocol) and refuses bad values naming the field; the
 * stream's kubePolicy/kubeNamespace changes reach the agent's store and stateOf() returns them.
 */
import { strict as assert } from 'node:assert';
import protobuf from 'protobufjs';
import { isNetloomError } from '../../../lib/errors';
import { applyChange, emptyStore, stateOf, storeFromState } from '../../../netplugin/netmaster-client/apply';
import { parseHostState } from '../../../netplugin/state/host-state';
import { agentProtoPath } from '../../../proto/loader';
import type { Change__Output } from '../../../proto/gen/netloom/v1/Change';
import type { HostState as WireState, HostState__Output } from '../../../proto/gen/netloom/v1/HostState';
import type { KubeNetworkPolicy } from '../../../proto/gen/netloom/v1/KubeNetworkPolicy';

const NET = {
  key: 'k:pods',
  tenant: 'k',
  name: 'pods',
  encap: 'vxlan',
  pktTag: 5100,
  subnet: '10.51.0.0/24',
  gateway: '10.51.0.1',
  networkId: 1,
};

function podEndpoint(id: string, ip: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    network: 'k:pods',
    host: 'h1',
    ip,
    mac: `02:00:00:51:00:${ip.split('.')[3]!.padStart(2, '0')}`,
    labels: { app: id },
    pod: { namespace: 'x', name: id, uid: `u-${id}`, namedPorts: [{ name: 'web', protocol: 'TCP', port: 8080 }] },
    ...extra,
  };
}

const POLICY: KubeNetworkPolicy = {
  key: 'x/web',
  namespace: 'x',
  name: 'web',
  podSelector: { matchLabels: { app: 'a' }, matchExpressions: [] },
  ingressIsolation: true,
  egressIsolation: true,
  ingress: [
    {
      peers: [
        {
          podSelector: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'In', values: ['b'] }] },
          namespaceSelector: null,
          ipBlock: null,
        },
        { podSelector: null, namespaceSelector: { matchLabels: {}, matchExpressions: [] }, ipBlock: null },
        { podSelector: null, namespaceSelector: null, ipBlock: { cidr: '10.0.0.0/8', except: ['10.51.0.0/24'] } },
      ],
      ports: [
        { protocol: 'TCP', port: 80, namedPort: '', endPort: 90 },
        { protocol: 'UDP', port: 0, namedPort: 'dns', endPort: 0 },
      ],
    },
  ],
  egress: [{ peers: [], ports: [{ protocol: 'SCTP', port: 9, namedPort: '', endPort: 0 }] }],
};

function wireState(): WireState {
  return {
    tenants: [{ name: 'k', ctZone: 51, vrfId: 51 }],
    networks: [NET],
    endpoints: [podEndpoint('a', '10.51.0.2'), podEndpoint('b', '10.51.0.3')],
    kubePolicies: [POLICY],
    kubeNamespaces: [{ key: 'x', labels: { 'kubernetes.io/metadata.name': 'x', team: 'red' } }],
  } as WireState;
}

function rejects(raw: unknown, field: RegExp): void {
  assert.throws(
    () => parseHostState(raw),
    (e: unknown) => {
      assert.ok(isNetloomError(e), `a NetloomError, got ${String(e)}`);
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.match(e.field ?? '', field, `field of: ${e.message}`);
      return true;
    },
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON copies that the refusal cases change anywhere
type Json = any;

/** The wire state with one change made by `f` to its (JSON copy of the) policy. */
function withPolicy(f: (p: Json) => void): unknown {
  const s = JSON.parse(JSON.stringify(wireState())) as Json;
  f(s.kubePolicies[0]);
  return s;
}

describe('agent host state: Kubernetes policies, namespaces and pods', () => {
  it('a state that went over the wire (proto, loader options) parses to the same objects, null selectors kept', () => {
    const type = protobuf.loadSync(agentProtoPath()).lookupType('netloom.v1.HostState');
    const bytes = type.encode(type.fromObject(wireState())).finish();
    const received = type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true }) as HostState__Output;
    const s = parseHostState(received);
    assert.deepEqual(s.kubePolicies, [POLICY]);
    assert.deepEqual(s.kubeNamespaces, [{ key: 'x', labels: { 'kubernetes.io/metadata.name': 'x', team: 'red' } }]);
    assert.deepEqual(s.endpoints[0]!.pod, {
      namespace: 'x',
      name: 'a',
      uid: 'u-a',
      namedPorts: [{ name: 'web', protocol: 'TCP', port: 8080 }],
    });
    const peers = s.kubePolicies![0]!.ingress[0]!.peers;
    assert.deepEqual(
      peers.map((p) => [p.podSelector === null, p.namespaceSelector === null, p.ipBlock === null]),
      [
        [false, true, true],
        [true, false, true],
        [true, true, false],
      ],
      'absent selectors stay absent, the empty namespaceSelector stays (it means every namespace)',
    );
  });

  it("the API's default protocol (TCP) for a port or named port without one; a state without Kubernetes objects looks as before", () => {
    const s = parseHostState(
      withPolicy((p) => {
        p.ingress[0].ports = [{ port: 80 }];
      }),
    );
    assert.deepEqual(s.kubePolicies![0]!.ingress[0]!.ports, [{ protocol: 'TCP', port: 80, namedPort: '', endPort: 0 }]);
    const plain = parseHostState({
      tenants: [{ name: 'k', ctZone: 51, vrfId: 51 }],
      networks: [NET],
      endpoints: [{ ...podEndpoint('a', '10.51.0.2'), pod: null }],
    });
    assert.ok(!('kubePolicies' in plain) && !('kubeNamespaces' in plain), 'no empty lists added');
    assert.ok(!('pod' in plain.endpoints[0]!), 'an endpoint that is not a pod has no pod field');
  });

  it('refuses bad values, naming the field', () => {
    const at = 'kubePolicies\\.0\\.ingress\\.0';
    rejects(
      withPolicy((p) => (p.ingress[0].peers[0].podSelector.matchExpressions[0].operator = 'Gt')),
      new RegExp(`^${at}\\.peers\\.0\\.podSelector\\.matchExpressions\\.0\\.operator$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].peers[0].podSelector.matchExpressions[0].values = [])),
      new RegExp(`^${at}\\.peers\\.0\\.podSelector\\.matchExpressions\\.0\\.values$`),
    );
    rejects(
      withPolicy((p) => (p.podSelector.matchExpressions = [{ key: 'app', operator: 'Exists', values: ['x'] }])),
      /^kubePolicies\.0\.podSelector\.matchExpressions\.0\.values$/,
    );
    rejects(
      withPolicy((p) => (p.ingress[0].peers[2].ipBlock.cidr = '10.0.0.300/8')),
      new RegExp(`^${at}\\.peers\\.2\\.ipBlock\\.cidr$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].peers[2].ipBlock.cidr = '10.0.0.0')),
      new RegExp(`^${at}\\.peers\\.2\\.ipBlock\\.cidr$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].peers[2].ipBlock.except = ['192.168.0.0/24'])),
      new RegExp(`^${at}\\.peers\\.2\\.ipBlock\\.except\\.0$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].peers[2].podSelector = {})),
      new RegExp(`^${at}\\.peers\\.2\\.ipBlock$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].peers[2] = {})),
      new RegExp(`^${at}\\.peers\\.2\\.podSelector$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].ports[0].port = 70000)),
      new RegExp(`^${at}\\.ports\\.0\\.port$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].ports[0].endPort = 79)),
      new RegExp(`^${at}\\.ports\\.0\\.endPort$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].ports[1].endPort = 90)),
      new RegExp(`^${at}\\.ports\\.1\\.endPort$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].ports[1].namedPort = 'Not-A-Name')),
      new RegExp(`^${at}\\.ports\\.1\\.namedPort$`),
    );
    rejects(
      withPolicy((p) => (p.ingress[0].ports[1].port = 53)),
      new RegExp(`^${at}\\.ports\\.1\\.namedPort$`),
    );
    rejects(
      withPolicy((p) => (p.egress[0].ports[0].protocol = 'ICMP')),
      /^kubePolicies\.0\.egress\.0\.ports\.0\.protocol$/,
    );
    rejects(
      withPolicy((p) => (p.key = 'x/other')),
      /^kubePolicies\.0\.key$/,
    );
    const pod = (f: (e: Json) => void) => {
      const s = JSON.parse(JSON.stringify(wireState())) as Json;
      f(s.endpoints[1]);
      return s;
    };
    rejects(
      pod((e) => (e.pod.namedPorts[0].port = 0)),
      /^endpoints\.1\.pod\.namedPorts\.0\.port$/,
    );
    rejects(
      pod((e) => (e.pod.namedPorts[0].name = 'web--x')),
      /^endpoints\.1\.pod\.namedPorts\.0\.name$/,
    );
    rejects(
      pod((e) => (e.pod.namespace = '')),
      /^endpoints\.1\.pod\.namespace$/,
    );
  });
});

describe("agent store: the stream's Kubernetes changes", () => {
  const change = (c: Partial<Change__Output> & { key: string }): Change__Output =>
    ({ deleted: false, object: undefined, ...c }) as Change__Output;

  it('a snapshot and then puts and deletes by key (kubePolicy/<namespace/name>, kubeNamespace/<name>) reach stateOf, sorted by key', () => {
    const store = storeFromState(JSON.parse(JSON.stringify(wireState())) as HostState__Output);
    assert.deepEqual(
      stateOf(store).kubePolicies.map((p) => p.key),
      ['x/web'],
    );
    const other = { ...POLICY, key: 'a/first', namespace: 'a', name: 'first' };
    assert.ok(applyChange(store, change({ key: 'kubePolicy/a/first', object: 'kubePolicy', kubePolicy: other as never })));
    assert.ok(applyChange(store, change({ key: 'kubeNamespace/a', object: 'kubeNamespace', kubeNamespace: { key: 'a', labels: {} } })));
    let s = stateOf(store);
    assert.deepEqual(
      s.kubePolicies.map((p) => p.key),
      ['a/first', 'x/web'],
    );
    assert.deepEqual(
      s.kubeNamespaces.map((n) => n.key),
      ['a', 'x'],
    );
    // an update replaces, a delete removes (carrying only the key)
    assert.ok(
      applyChange(
        store,
        change({ key: 'kubePolicy/x/web', object: 'kubePolicy', kubePolicy: { ...POLICY, egressIsolation: false } as never }),
      ),
    );
    assert.ok(applyChange(store, change({ key: 'kubeNamespace/x', deleted: true })));
    s = stateOf(store);
    assert.equal(s.kubePolicies.find((p) => p.key === 'x/web')!.egressIsolation, false);
    assert.deepEqual(
      s.kubeNamespaces.map((n) => n.key),
      ['a'],
    );
    assert.ok(applyChange(store, change({ key: 'kubePolicy/a/first', deleted: true })));
    assert.deepEqual(
      stateOf(store).kubePolicies.map((p) => p.key),
      ['x/web'],
    );
    // what the agent then checks and compiles
    assert.equal(parseHostState(stateOf(store)).kubePolicies![0]!.egressIsolation, false);
  });

  it('a put without its object is refused; an empty store has empty lists', () => {
    assert.throws(() => applyChange(emptyStore(), change({ key: 'kubePolicy/x/web' })), /without an object/);
    assert.deepEqual([stateOf(emptyStore()).kubePolicies, stateOf(emptyStore()).kubeNamespaces], [[], []]);
  });
});
