/**
 * The Kubernetes NetworkPolicy compiler (lib/policy/kubernetes.ts) and the merge with Contiv's
 * rules (lib/policy/compile.ts) on hand-made states: isolation per direction, the union of the
 * selecting policies' rules, peers (pod and namespace selectors alone and together, ipBlock with
 * except), ports (protocols, SCTP as 132, ranges), named ports resolved on the receiving pod (and
 * never every port when unresolved), pods without an address, tenants apart, rule ids naming the
 * policy, shared rule objects and deterministic output.
 */
import assert from 'node:assert/strict';
import { compilePolicy } from '../../../../lib/policy/compile';
import { passes, type Packet } from '../../../../lib/policy/evaluate';
import { compileKubernetes, KUBE_RULE_PRIORITY, type KubePolicyLike, type KubePolicyState } from '../../../../lib/policy/kubernetes';
import { OPEN, type EndpointPolicy } from '../../../../lib/policy/model';
import { compileContiv, type ContivRule, type PolicyState } from '../../../../lib/policy/contiv';

type State = KubePolicyState & PolicyState;

interface PodSpec {
  id: string;
  ns: string;
  ip: string;
  host?: string;
  labels?: Record<string, string>;
  tenant?: string;
  ports?: Array<{ name: string; protocol: string; port: number }>;
  group?: string;
}

function state(pods: PodSpec[], policies: KubePolicyLike[], namespaces: Record<string, Record<string, string>> = {}): State {
  return {
    networks: [],
    groups: [],
    policies: [],
    endpoints: pods.map((p) => ({
      id: p.id,
      network: `${p.tenant ?? 't'}:n`,
      group: p.group ?? '',
      host: p.host ?? 'h1',
      ip: p.ip,
      labels: p.labels ?? {},
      pod: { namespace: p.ns, name: p.id, namedPorts: p.ports ?? [] },
    })),
    kubePolicies: policies,
    kubeNamespaces: Object.entries(namespaces).map(([key, labels]) => ({ key, labels })),
  };
}

/** A policy with defaults: every pod of its namespace, ingress isolation only. */
function policy(ns: string, name: string, p: Partial<KubePolicyLike>): KubePolicyLike {
  return {
    key: `${ns}/${name}`,
    namespace: ns,
    name,
    podSelector: {},
    ingressIsolation: true,
    egressIsolation: false,
    ingress: [],
    egress: [],
    ...p,
  };
}

const tcpPort = (port: number, endPort = 0) => ({ protocol: 'TCP', port, namedPort: '', endPort });
const named = (name: string, protocol = 'TCP') => ({ protocol, port: 0, namedPort: name, endPort: 0 });

function compiled(s: State, host = 'h1'): Map<string, EndpointPolicy> {
  return new Map(compileKubernetes(s, host).map((p) => [p.endpoint, p]));
}

/** Whether a packet between two pods of `s` passes (each compiled on its own host). */
function verdict(
  s: State,
  from: string,
  to: string,
  protocol: Packet['protocol'] = 'tcp',
  port: number | undefined = 80,
): 'allow' | 'deny' {
  const ep = (id: string) => s.endpoints.find((e) => e.id === id)!;
  const policyOf = (id: string) => compilePolicy(s, ep(id).host).find((p) => p.endpoint === id)!;
  const pkt: Packet = { src: ep(from).ip, dst: ep(to).ip, protocol, ...(port !== undefined ? { port } : {}) };
  return passes(pkt, policyOf(from).egress, policyOf(to).ingress).verdict;
}

const PODS: PodSpec[] = [
  { id: 'xa', ns: 'x', ip: '10.0.0.1', labels: { app: 'a' } },
  { id: 'xb', ns: 'x', ip: '10.0.0.2', labels: { app: 'b' } },
  { id: 'ya', ns: 'y', ip: '10.0.1.1', labels: { app: 'a' }, host: 'h2' },
  { id: 'yb', ns: 'y', ip: '10.0.1.2', labels: { app: 'b' }, host: 'h2' },
];
const NS = { x: { team: 'red' }, y: { team: 'blue' } };

describe('policy: Kubernetes NetworkPolicy compiler', () => {
  it('no policy: pods are open both ways; a policy isolates only the pods it selects, only in its directions', () => {
    assert.deepEqual(compileKubernetes(state(PODS, []), 'h1'), [], 'no NetworkPolicy: nothing to add to any endpoint');
    const other = state(PODS, [policy('y', 'elsewhere', {})], NS);
    assert.deepEqual(
      [...compiled(other).values()].map((p) => [p.endpoint, p.ingress, p.egress]),
      [
        ['xa', OPEN, OPEN],
        ['xb', OPEN, OPEN],
      ],
      "a policy of another namespace: x's pods are open",
    );
    const s = state(PODS, [policy('x', 'deny-a', { podSelector: { matchLabels: { app: 'a' } } })], NS);
    const c = compiled(s);
    assert.deepEqual([c.get('xa')!.ingress, c.get('xa')!.egress.isolated], [{ isolated: true, rules: [] }, false]);
    assert.deepEqual(c.get('xb')!.ingress, { isolated: false, rules: [] });
    assert.equal(verdict(s, 'xb', 'xa'), 'deny');
    assert.equal(verdict(s, 'xa', 'xb'), 'allow');
    assert.equal(verdict(s, 'ya', 'xa'), 'deny', 'from another namespace too');
  });

  it("a policy of one namespace never selects another namespace's pods", () => {
    const s = state(PODS, [policy('y', 'deny-all', { egressIsolation: true })], NS);
    assert.equal(verdict(s, 'xa', 'xb'), 'allow');
    assert.equal(verdict(s, 'xa', 'ya'), 'deny');
    assert.equal(verdict(s, 'ya', 'xa'), 'deny', 'y is egress-isolated too');
  });

  it('the union of every selecting policy: a second policy adds what it allows, even to a pod only one of them isolates', () => {
    const s = state(
      PODS,
      [
        policy('x', 'from-b', { ingress: [{ peers: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [] }] }),
        policy('x', 'from-y', {
          podSelector: { matchLabels: { app: 'a' } },
          ingress: [{ peers: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }], ports: [] }],
        }),
      ],
      NS,
    );
    assert.equal(verdict(s, 'xb', 'xa'), 'allow');
    assert.equal(verdict(s, 'ya', 'xa'), 'allow');
    assert.equal(verdict(s, 'ya', 'xb'), 'deny', 'xb is selected by from-b only');
    const rules = compiled(s).get('xa')!.ingress.rules;
    assert.deepEqual(
      rules.map((r) => [r.id, r.action, r.priority, r.peers]),
      [
        ['k8s:x/from-b/ingress/0', 'allow', KUBE_RULE_PRIORITY, { include: ['10.0.0.2/32'], exclude: [] }],
        ['k8s:x/from-y/ingress/0', 'allow', KUBE_RULE_PRIORITY, { include: ['10.0.1.1/32', '10.0.1.2/32'], exclude: [] }],
      ],
    );
  });

  it('peers: podSelector alone is the policy namespace; both selectors in one peer are AND, two peers OR; an empty namespaceSelector is every namespace', () => {
    const only = (peers: KubePolicyLike['ingress'][number]['peers']) =>
      compiled(state(PODS, [policy('x', 'p', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ peers, ports: [] }] })], NS)).get(
        'xa',
      )!.ingress.rules[0]?.peers.include;
    const appB = { matchLabels: { app: 'b' } };
    assert.deepEqual(only([{ podSelector: appB }]), ['10.0.0.2/32']);
    assert.deepEqual(only([{ podSelector: appB, namespaceSelector: { matchLabels: { team: 'blue' } } }]), ['10.0.1.2/32']);
    assert.deepEqual(only([{ podSelector: appB }, { namespaceSelector: { matchLabels: { team: 'blue' } } }]), [
      '10.0.0.2/32',
      '10.0.1.1/32',
      '10.0.1.2/32',
    ]);
    assert.deepEqual(only([{ namespaceSelector: {} }]), ['10.0.0.1/32', '10.0.0.2/32', '10.0.1.1/32', '10.0.1.2/32']);
    assert.deepEqual(only([{ podSelector: {}, namespaceSelector: null, ipBlock: null }]), ['10.0.0.1/32', '10.0.0.2/32']);
    // a selector that selects nobody: the rule has no address and matches nothing
    assert.equal(only([{ podSelector: { matchLabels: { app: 'none' } } }]), undefined);
  });

  it('namespaceSelector matches the namespace name label even for a namespace the state does not carry', () => {
    const s = state(
      PODS,
      [
        policy('x', 'p', {
          ingress: [{ peers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }], ports: [] }],
        }),
      ],
      {
        x: {},
      },
    );
    assert.equal(verdict(s, 'ya', 'xa'), 'allow');
    assert.equal(verdict(s, 'xb', 'xa'), 'deny');
  });

  it('ipBlock: its CIDR minus except, pods included; each except block is its own rule', () => {
    const s = state(
      PODS,
      [
        policy('x', 'p', {
          ingressIsolation: false,
          egressIsolation: true,
          egress: [
            {
              peers: [
                { ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } },
                { ipBlock: { cidr: '192.168.0.0/24', except: [] } },
                { podSelector: { matchLabels: { app: 'b' } } },
              ],
              ports: [],
            },
          ],
        }),
      ],
      NS,
    );
    const rules = compiled(s).get('xa')!.egress.rules;
    assert.deepEqual(
      rules.map((r) => r.peers),
      [
        { include: ['10.0.0.2/32', '192.168.0.0/24'], exclude: [] },
        { include: ['10.0.0.0/16'], exclude: ['10.0.1.0/24'] },
      ],
    );
    assert.equal(verdict(s, 'xa', 'xb'), 'allow');
    assert.equal(verdict(s, 'xa', 'ya'), 'deny', 'in the except');
    const out = (dst: string) =>
      passes({ src: '10.0.0.1', dst, protocol: 'udp', port: 53 }, compiled(s).get('xa')!.egress, undefined).verdict;
    assert.deepEqual([out('10.0.200.1'), out('192.168.0.9'), out('192.168.1.9'), out('8.8.8.8')], ['allow', 'allow', 'deny', 'deny']);
  });

  it('an IPv6 ipBlock names no IPv4 address', () => {
    const s = state(PODS, [policy('x', 'p', { ingress: [{ peers: [{ ipBlock: { cidr: '::/0', except: [] } }], ports: [] }] })], NS);
    assert.deepEqual(compiled(s).get('xa')!.ingress, { isolated: true, rules: [] });
  });

  it('ports: TCP, UDP, SCTP (132), a range, every port of a protocol; no ports is every port and protocol', () => {
    const s = state(
      PODS,
      [
        policy('x', 'p', {
          ingress: [
            {
              peers: [],
              ports: [
                tcpPort(80),
                { protocol: 'UDP', port: 53, namedPort: '', endPort: 0 },
                { protocol: 'SCTP', port: 9, namedPort: '', endPort: 0 },
                tcpPort(1000, 1999),
                { protocol: 'UDP', port: 0, namedPort: '', endPort: 0 },
              ],
            },
          ],
        }),
      ],
      NS,
    );
    assert.deepEqual(compiled(s).get('xa')!.ingress.rules[0]!.services, [
      { protocol: 'tcp', ports: [{ from: 80, to: 80 }] },
      { protocol: 'udp', ports: [{ from: 53, to: 53 }] },
      { protocol: 132, ports: [{ from: 9, to: 9 }] },
      { protocol: 'tcp', ports: [{ from: 1000, to: 1999 }] },
      { protocol: 'udp' },
    ]);
    assert.deepEqual(
      [
        verdict(s, 'ya', 'xa', 'tcp', 80),
        verdict(s, 'ya', 'xa', 'tcp', 81),
        verdict(s, 'ya', 'xa', 'tcp', 1999),
        verdict(s, 'ya', 'xa', 'tcp', 2000),
      ],
      ['allow', 'deny', 'allow', 'deny'],
    );
    assert.deepEqual(
      [verdict(s, 'ya', 'xa', 132, 9), verdict(s, 'ya', 'xa', 132, 10), verdict(s, 'ya', 'xa', 'udp', 7)],
      ['allow', 'deny', 'allow'],
    );
    assert.equal(verdict(s, 'ya', 'xa', 'icmp', undefined), 'deny');
    const all = state(PODS, [policy('x', 'p', { ingress: [{ peers: [], ports: [] }] })], NS);
    assert.deepEqual(compiled(all).get('xa')!.ingress.rules[0]!.services, []);
    assert.equal(verdict(all, 'ya', 'xa', 'icmp', undefined), 'allow');
  });

  it('ingress named ports resolve on the selected pod itself, by name and protocol; pods resolving alike share the rule', () => {
    const pods: PodSpec[] = [
      { id: 'p1', ns: 'x', ip: '10.0.0.1', ports: [{ name: 'web', protocol: 'TCP', port: 8080 }] },
      { id: 'p2', ns: 'x', ip: '10.0.0.2', ports: [{ name: 'web', protocol: 'TCP', port: 9090 }] },
      { id: 'p3', ns: 'x', ip: '10.0.0.3', ports: [{ name: 'web', protocol: 'UDP', port: 8080 }] },
      { id: 'p4', ns: 'x', ip: '10.0.0.4', ports: [{ name: 'web', protocol: 'TCP', port: 8080 }] },
      { id: 'c', ns: 'y', ip: '10.0.1.1', host: 'h2' },
    ];
    const s = state(pods, [policy('x', 'web', { ingress: [{ peers: [], ports: [named('web')] }] })], NS);
    const c = compiled(s);
    assert.deepEqual(c.get('p1')!.ingress.rules[0]!.services, [{ protocol: 'tcp', ports: [{ from: 8080, to: 8080 }] }]);
    assert.deepEqual(c.get('p2')!.ingress.rules[0]!.services, [{ protocol: 'tcp', ports: [{ from: 9090, to: 9090 }] }]);
    assert.deepEqual(
      c.get('p3')!.ingress,
      { isolated: true, rules: [] },
      "p3's web is UDP: the TCP port resolves to nothing, and nothing is allowed",
    );
    assert.equal(c.get('p4')!.ingress.rules[0], c.get('p1')!.ingress.rules[0], 'one rule object for pods that resolve alike');
    assert.deepEqual(
      [
        verdict(s, 'c', 'p1', 'tcp', 8080),
        verdict(s, 'c', 'p1', 'tcp', 9090),
        verdict(s, 'c', 'p2', 'tcp', 9090),
        verdict(s, 'c', 'p3', 'udp', 8080),
      ],
      ['allow', 'deny', 'allow', 'deny'],
    );
  });

  it('egress named ports resolve on each peer pod (rules per set of peers that resolve alike); an ipBlock or a pod without the name gets nothing', () => {
    const pods: PodSpec[] = [
      { id: 'src', ns: 'x', ip: '10.0.0.1' },
      { id: 'd1', ns: 'y', ip: '10.0.1.1', ports: [{ name: 'web', protocol: 'TCP', port: 8080 }] },
      { id: 'd2', ns: 'y', ip: '10.0.1.2', ports: [{ name: 'web', protocol: 'TCP', port: 9090 }] },
      { id: 'd3', ns: 'y', ip: '10.0.1.3', ports: [{ name: 'web', protocol: 'TCP', port: 8080 }] },
      { id: 'd4', ns: 'y', ip: '10.0.1.4' },
    ];
    const s = state(
      pods,
      [
        policy('x', 'out', {
          ingressIsolation: false,
          egressIsolation: true,
          egress: [
            { peers: [{ namespaceSelector: {} }, { ipBlock: { cidr: '0.0.0.0/0', except: [] } }], ports: [named('web'), tcpPort(22)] },
          ],
        }),
      ],
      NS,
    );
    const rules = compiled(s).get('src')!.egress.rules;
    assert.deepEqual(
      rules.map((r) => [r.peers.include, r.services]),
      [
        [
          ['10.0.0.1/32', '10.0.1.1/32', '10.0.1.2/32', '10.0.1.3/32', '10.0.1.4/32', '0.0.0.0/0'].sort(),
          [{ protocol: 'tcp', ports: [{ from: 22, to: 22 }] }],
        ],
        [['10.0.1.1/32', '10.0.1.3/32'], [{ protocol: 'tcp', ports: [{ from: 8080, to: 8080 }] }]],
        [['10.0.1.2/32'], [{ protocol: 'tcp', ports: [{ from: 9090, to: 9090 }] }]],
      ],
    );
    assert.ok(
      rules.every((r) => r.id === 'k8s:x/out/egress/0'),
      'every part names its policy rule',
    );
    assert.deepEqual(
      [
        verdict(s, 'src', 'd1', 'tcp', 8080),
        verdict(s, 'src', 'd1', 'tcp', 9090),
        verdict(s, 'src', 'd2', 'tcp', 9090),
        verdict(s, 'src', 'd4', 'tcp', 8080),
      ],
      ['allow', 'deny', 'allow', 'deny'],
    );
    const toWorld = (port: number) =>
      passes(
        { src: '10.0.0.1', dst: '8.8.8.8', protocol: 'tcp', port },
        rules.length ? compiled(s).get('src')!.egress : undefined,
        undefined,
      ).verdict;
    assert.deepEqual([toWorld(8080), toWorld(22)], ['deny', 'allow'], 'the ipBlock gets the numeric port, not the named one');
  });

  it('a named port that nobody has selects nothing, not every port (both directions)', () => {
    const s = state(
      PODS,
      [
        policy('x', 'in', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ peers: [], ports: [named('nope')] }] }),
        policy('x', 'out', {
          podSelector: { matchLabels: { app: 'b' } },
          ingressIsolation: false,
          egressIsolation: true,
          egress: [{ peers: [], ports: [named('nope')] }],
        }),
      ],
      NS,
    );
    const c = compiled(s);
    assert.deepEqual(c.get('xa')!.ingress, { isolated: true, rules: [] });
    assert.deepEqual(c.get('xb')!.egress, { isolated: true, rules: [] });
    assert.equal(verdict(s, 'ya', 'xa'), 'deny');
    assert.equal(verdict(s, 'xb', 'ya'), 'deny');
  });

  it('pods without an address are skipped, as local pods and as peers; endpoints that are not pods get nothing', () => {
    const s = state(
      [...PODS, { id: 'xn', ns: 'x', ip: '', labels: { app: 'b' } }],
      [policy('x', 'p', { ingress: [{ peers: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [] }] })],
      NS,
    );
    (s.endpoints as Array<State['endpoints'][number]>).push({
      id: 'vm',
      network: 't:n',
      group: '',
      host: 'h1',
      ip: '10.0.0.9',
      labels: { app: 'b' },
      pod: null,
    });
    const c = compiled(s);
    assert.deepEqual([...c.keys()], ['xa', 'xb']);
    assert.deepEqual(c.get('xa')!.ingress.rules[0]!.peers.include, ['10.0.0.2/32']);
  });

  it("peers are the local pod's tenant's pods only (tenants never reach each other; their addresses may overlap)", () => {
    const s = state(
      [...PODS, { id: 'other', ns: 'x', ip: '10.0.0.7', labels: { app: 'b' }, tenant: 'u' }],
      [policy('x', 'p', { ingress: [{ peers: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [] }] })],
      NS,
    );
    const c = compiled(s);
    assert.deepEqual(c.get('xa')!.ingress.rules[0]!.peers.include, ['10.0.0.2/32']);
    assert.deepEqual(c.get('other')!.ingress.rules[0]!.peers.include, ['10.0.0.7/32']);
    assert.equal(c.get('other')!.tenant, 'u');
  });

  it('rule objects and address sets are shared by the pods a rule applies to; output is the same for the same input, memoised per state', () => {
    const s = state(PODS, [policy('x', 'p', { ingress: [{ peers: [{ namespaceSelector: {} }], ports: [tcpPort(80)] }] })], NS);
    const c = compiled(s);
    assert.equal(c.get('xa')!.ingress.rules[0], c.get('xb')!.ingress.rules[0]);
    assert.equal(compileKubernetes(s, 'h1'), compileKubernetes(s, 'h1'));
    const again = state(PODS, [policy('x', 'p', { ingress: [{ peers: [{ namespaceSelector: {} }], ports: [tcpPort(80)] }] })], NS);
    assert.deepEqual(compileKubernetes(again, 'h1'), compileKubernetes(s, 'h1'));
  });
});

describe('policy: Contiv and Kubernetes merged (compilePolicy)', () => {
  const contivRule = (r: Partial<ContivRule>): ContivRule => ({
    ruleId: 'r',
    direction: 'in',
    priority: 1,
    action: 'deny',
    protocol: '',
    port: 0,
    fromGroup: '',
    toGroup: '',
    fromNetwork: '',
    toNetwork: '',
    fromIp: '',
    toIp: '',
    ...r,
  });
  function merged(contiv: ContivRule[]): State {
    const s = state(
      PODS.map((p) => ({ ...p, group: p.id === 'xa' ? 't:g' : '' })),
      [
        policy('x', 'allow-y', {
          podSelector: { matchLabels: { app: 'a' } },
          ingress: [{ peers: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }], ports: [] }],
        }),
      ],
      NS,
    );
    return { ...s, groups: [{ key: 't:g', tenant: 't', policies: ['p'] }], policies: [{ key: 't:p', rules: contiv }] };
  }

  it('an endpoint with both gets both rule lists, isolated when Kubernetes isolates; Kubernetes allows below Contiv priorities', () => {
    const s = merged([contivRule({ ruleId: 'no-yb', fromIp: '10.0.1.2', priority: 1 })]);
    const p = compilePolicy(s, 'h1').find((x) => x.endpoint === 'xa')!;
    assert.deepEqual(
      p.ingress.rules.map((r) => [r.id, r.action, r.priority]),
      [
        ['t:p/no-yb', 'deny', 1],
        ['k8s:x/allow-y/ingress/0', 'allow', 0],
      ],
    );
    assert.equal(p.ingress.isolated, true);
    assert.equal(verdict(s, 'ya', 'xa'), 'allow', 'allowed by Kubernetes');
    assert.equal(verdict(s, 'yb', 'xa'), 'deny', 'a Contiv deny wins over a Kubernetes allow');
    assert.equal(verdict(s, 'xb', 'xa'), 'deny', 'isolated by Kubernetes');
  });

  it('a Contiv allow lets traffic through a Kubernetes isolation (it decides first)', () => {
    const s = merged([contivRule({ ruleId: 'from-xb', action: 'allow', fromIp: '10.0.0.2', priority: 5 })]);
    assert.equal(verdict(s, 'xb', 'xa'), 'allow');
  });

  it('an endpoint with one side keeps that side unchanged (the same objects)', () => {
    const s = merged([contivRule({ ruleId: 'x', fromIp: '10.9.9.9' })]);
    const contivOnly = { ...s, kubePolicies: [] };
    const xa = (list: EndpointPolicy[]) => list.find((x) => x.endpoint === 'xa')!;
    assert.equal(xa(compilePolicy(contivOnly, 'h1')), xa(compileContiv(contivOnly, 'h1')));
    assert.equal(xa(compilePolicy(contivOnly, 'h1')).ingress.isolated, false);
    const kubeOnly = { ...s, policies: [], groups: [] };
    assert.equal(xa(compilePolicy(kubeOnly, 'h1')).ingress, xa(compileKubernetes(kubeOnly, 'h1')).ingress);
    assert.equal(xa(compilePolicy(kubeOnly, 'h1')).egress, xa(compileContiv(kubeOnly, 'h1')).egress, 'the open side is the Contiv one');
  });
});
