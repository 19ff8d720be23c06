/**
 * The upstream NetworkPolicy e2e scenarios (kubernetes/kubernetes test/e2e/network/netpol,
 * network_policy.go; read for their policies and expectations, written here anew) as plain data,
 * for the pure compiler test, the backends' tests with real traffic and the lab's Kubernetes test.
 *
 * The model is upstream's: namespaces x, y, z (labelled `ns=<name>`, plus the automatic
 * kubernetes.io/metadata.name), pods a, b, c in each (labelled `pod=<name>`), serving ports 80
 * and 81 over TCP and UDP, their container ports named `serve-<port>-<tcp|udp>`. Upstream's newer
 * tests run each scenario on the few pods it needs; here every scenario has all nine pods, so a
 * few expectations name a pod upstream's smaller set left out (said where so).
 *
 * A scenario is steps (a policy update, a label change, a delete is the next step); a step is the
 * whole state in force (policies in the API's own shape, label and named-port changes) and the
 * expected reachability for the probes upstream checks, written as upstream writes it. A probe
 * not listed in a step is not checked against this table (the real-traffic tests hold it to the
 * compiled policy's reference semantics instead).
 */
import { Reachability } from './netpol-reachability';

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
/** every pod, `ns/name`, in order */
export const PODS: readonly string[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));
export const PORTS = [80, 81] as const;
export type Proto = 'TCP' | 'UDP';
export const PROTOCOLS: readonly Proto[] = ['TCP', 'UDP'];

/** The label every namespace has (the API server's). */
export const NS_NAME = 'kubernetes.io/metadata.name';

// ---- the API's shapes (networking.k8s.io/v1), as a manifest has them ----

export interface SelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}
export interface NetpolPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
export interface NetpolPort {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** a number or a named port */
  port?: number | string;
  endPort?: number;
}
export interface NetpolSpec {
  podSelector: LabelSelector;
  policyTypes?: Array<'Ingress' | 'Egress'>;
  ingress?: Array<{ from?: NetpolPeer[]; ports?: NetpolPort[] }>;
  egress?: Array<{ to?: NetpolPeer[]; ports?: NetpolPort[] }>;
}
export interface NetpolObject {
  namespace: string;
  name: string;
  spec: NetpolSpec;
}

export interface NamedPort {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
}

/** A pod's address, by `ns/name` (the policies of ipBlock scenarios are made from them). */
export type IpOf = (pod: string) => string;

export interface NetpolCheck {
  port: number;
  protocol: Proto;
  /** the expectations, applied to a matrix where everything is allowed */
  reach: (r: Reachability) => void;
}

export interface NetpolStep {
  /** what the step changes (for messages) */
  does: string;
  /** every policy in force */
  policies: (ip: IpOf) => NetpolObject[];
  /** pods whose labels differ from `pod=<name>`: their whole label set */
  podLabels?: Record<string, Record<string, string>>;
  /** namespaces whose labels differ from `ns=<name>`: their whole label set (the name label is always there) */
  namespaceLabels?: Record<string, Record<string, string>>;
  /** named ports a pod has besides the `serve-*` ones */
  extraNamedPorts?: Record<string, NamedPort[]>;
  expect: NetpolCheck[];
}

export interface NetpolScenario {
  name: string;
  steps: NetpolStep[];
}

/** A pod's labels in a step. */
export function podLabels(step: NetpolStep, pod: string): Record<string, string> {
  return step.podLabels?.[pod] ?? { pod: pod.split('/')[1]! };
}

/** A namespace's labels in a step, the name label included. */
export function namespaceLabels(step: NetpolStep, ns: string): Record<string, string> {
  return { ...(step.namespaceLabels?.[ns] ?? { ns }), [NS_NAME]: ns };
}

/** A pod's named container ports in a step (upstream names each served port `serve-<port>-<protocol>`). */
export function namedPorts(step: NetpolStep, pod: string): NamedPort[] {
  const serve = PORTS.flatMap((port) =>
    PROTOCOLS.map((protocol) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, protocol, containerPort: port })),
  );
  return [...serve, ...(step.extraNamedPorts?.[pod] ?? [])];
}

/** The expected matrix of one check. */
export function expectedReachability(check: NetpolCheck): Reachability {
  const r = new Reachability(PODS, true);
  check.reach(r);
  return r;
}

// ---- shorthands ----

const pol = (namespace: string, name: string, spec: NetpolSpec): NetpolObject => ({ namespace, name, spec });
const ALL: LabelSelector = {};
const podIs = (name: string): LabelSelector => ({ matchLabels: { pod: name } });
const nsIs = (name: string): LabelSelector => ({ matchLabels: { [NS_NAME]: name } });
const tcp = (port: number, reach: NetpolCheck['reach']): NetpolCheck => ({ port, protocol: 'TCP', reach });
const udp = (port: number, reach: NetpolCheck['reach']): NetpolCheck => ({ port, protocol: 'UDP', reach });
const allAllowed: NetpolCheck['reach'] = () => undefined;
const one = (name: string, policies: NetpolStep['policies'], expect: NetpolCheck[], extra: Partial<NetpolStep> = {}): NetpolScenario => ({
  name,
  steps: [{ does: 'create', policies, expect, ...extra }],
});
/** x's default deny of ingress */
const denyIngressX = pol('x', 'deny-ingress', { podSelector: ALL, policyTypes: ['Ingress'] });
/** The largest CIDR upstream builds around an address: its /4. */
export function slash4(ip: string): string {
  const first = Number(ip.split('.')[0]) & 0xf0;
  return `${first}.0.0.0/4`;
}

export const NETPOL_SCENARIOS: NetpolScenario[] = [
  one("should support a 'default-deny-ingress' policy", () => [denyIngressX], [
    tcp(80, (r) => r.expectPeer({}, { namespace: 'x' }, false)),
    udp(80, (r) => r.expectPeer({}, { namespace: 'x' }, false)),
  ]),
  one(
    "should support a 'default-deny-all' policy",
    () => [pol('x', 'deny-all', { podSelector: ALL, policyTypes: ['Ingress', 'Egress'] })],
    [
      tcp(80, (r) => r.expectPeer({}, { namespace: 'x' }, false).expectPeer({ namespace: 'x' }, {}, false)),
      udp(81, (r) => r.expectPeer({}, { namespace: 'x' }, false).expectPeer({ namespace: 'x' }, {}, false)),
    ],
  ),
  one(
    'should enforce policy to allow traffic from pods within server namespace based on PodSelector',
    () => [
      pol('x', 'x-a-allows-x-b', { podSelector: podIs('a'), policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: podIs('b') }] }] }),
    ],
    [tcp(80, (r) => r.expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
  ),
  one(
    'should enforce policy to allow ingress traffic for a target',
    () => [
      pol('x', 'deny-all', { podSelector: ALL, policyTypes: ['Ingress'] }),
      pol('x', 'allow-all-to-a', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: ALL, namespaceSelector: ALL }] }],
      }),
    ],
    // upstream's pods were x/a, x/b, y/a: x/c is isolated like x/b
    [tcp(80, (r) => r.expectAllIngress('x/a', true).expectAllIngress('x/b', false).expectAllIngress('x/c', false))],
  ),
  one(
    'should enforce policy to allow ingress traffic from pods in all namespaces',
    () => [
      pol('x', 'allow-from-another-ns', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: ALL }] }],
      }),
    ],
    [tcp(80, allAllowed)],
  ),
  one(
    'should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector (a label of the namespace)',
    () => [
      pol('x', 'allow-client-a-via-ns-selector', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }],
      }),
    ],
    [
      tcp(80, (r) =>
        r
          .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
          .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
    ],
  ),
  one(
    'should enforce policy based on PodSelector with MatchExpressions',
    () => [
      pol('x', 'x-a-allows-x-b', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }] }],
      }),
    ],
    [tcp(80, (r) => r.expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
  ),
  one(
    'should enforce policy based on NamespaceSelector with MatchExpressions',
    () => [
      pol('x', 'allow-ns-y-match-selector', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: NS_NAME, operator: 'In', values: ['y'] }] } }] }],
      }),
    ],
    [
      tcp(80, (r) =>
        r
          .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
          .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
    ],
  ),
  one(
    'should enforce policy based on PodSelector or NamespaceSelector',
    () => [
      pol('x', 'allow-ns-y-match-selector', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { namespaceSelector: { matchExpressions: [{ key: NS_NAME, operator: 'NotIn', values: ['x'] }] } },
              { podSelector: podIs('b') },
            ],
          },
        ],
      }),
    ],
    [tcp(80, (r) => r.expect('x/a', 'x/a', false).expect('x/c', 'x/a', false))],
  ),
  one(
    'should enforce policy based on PodSelector and NamespaceSelector',
    () => [
      pol('x', 'allow-ns-y-podselector-and-nsselector', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { namespaceSelector: { matchExpressions: [{ key: NS_NAME, operator: 'NotIn', values: ['x'] }] }, podSelector: podIs('b') },
            ],
          },
        ],
      }),
    ],
    [tcp(80, (r) => r.expectAllIngress('x/a', false).expect('y/b', 'x/a', true).expect('z/b', 'x/a', true))],
  ),
  one(
    'should enforce policy based on Multiple PodSelectors and NamespaceSelectors',
    () => [
      pol('x', 'allow-ns-y-z-pod-b-c', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchExpressions: [{ key: NS_NAME, operator: 'NotIn', values: ['x'] }] },
                podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] },
              },
            ],
          },
        ],
      }),
    ],
    // upstream's pods had no z/a: it is refused as y/a is
    [
      tcp(80, (r) =>
        r.expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expect('y/a', 'x/a', false).expect('z/a', 'x/a', false),
      ),
    ],
  ),
  one(
    'should enforce policy based on any PodSelectors',
    () => [
      pol('x', 'allow-ns-x-pod-b-c', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: podIs('b') }, { podSelector: podIs('c') }] }],
      }),
    ],
    [tcp(80, (r) => r.expectAllIngress('x/a', false).expect('x/b', 'x/a', true).expect('x/c', 'x/a', true))],
  ),
  one(
    'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    () => [
      pol('x', 'allow-ns-y-pod-a-via-namespace-pod-selector', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }],
      }),
    ],
    [
      tcp(80, (r) => r.expectAllIngress('x/a', false).expect('y/a', 'x/a', true)),
      udp(80, (r) => r.expectAllIngress('x/a', false).expect('y/a', 'x/a', true)),
    ],
  ),
  one(
    'should enforce policy based on Ports',
    () => [
      pol('x', 'allow-client-a-via-ns-selector', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 81, protocol: 'TCP' }] }],
      }),
    ],
    [
      tcp(81, (r) =>
        r
          .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
          .expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true)
          .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
      tcp(80, (r) => r.expectAllIngress('x/a', false)),
    ],
  ),
  one(
    'should enforce policy based on Ports (UDP)',
    () => [
      pol('x', 'allow-ingress-on-port-81-ns-x', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 81, protocol: 'UDP' }] }],
      }),
    ],
    [
      udp(81, (r) =>
        r
          .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
          .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
      tcp(81, (r) => r.expectAllIngress('x/a', false)),
    ],
  ),
  {
    name: 'should enforce multiple, stacked policies with overlapping podSelectors',
    steps: [
      {
        does: 'allow port 81 from y',
        policies: () => [allowNsYPort('allow-client-a-via-ns-selector', 81)],
        expect: [tcp(81, reachAllowY), tcp(80, (r) => r.expectAllIngress('x/a', false))],
      },
      {
        does: 'and port 80 from y',
        policies: () => [allowNsYPort('allow-client-a-via-ns-selector', 81), allowNsYPort('allow-client-a-via-ns-selector-80', 80)],
        expect: [tcp(80, reachAllowY), tcp(81, reachAllowY)],
      },
    ],
  },
  one('should support allow-all policy', () => [pol('x', 'allow-all', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [{}] })], [
    tcp(80, allAllowed),
    tcp(81, allAllowed),
  ]),
  one(
    'should allow ingress access on one named port',
    () => [pol('x', 'allow-all', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })],
    [
      tcp(81, allAllowed),
      tcp(80, (r) => r.expectPeer({}, { namespace: 'x' }, false)),
      // the named port is TCP's (the port's protocol defaults to TCP): UDP 81 is not allowed
      udp(81, (r) => r.expectPeer({}, { namespace: 'x' }, false)),
    ],
  ),
  one(
    'should allow ingress access from namespace on one named port',
    () => [
      pol('x', 'allow-client-a-via-ns-selector-80', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 'serve-80-tcp', protocol: 'TCP' }] }],
      }),
    ],
    [
      tcp(80, (r) =>
        r
          .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
          .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
      tcp(81, (r) => r.expectAllIngress('x/a', false)),
    ],
  ),
  one(
    'should allow egress access on one named port',
    () => [pol('x', 'allow-egress', { podSelector: ALL, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-80-tcp' }] }] })],
    [tcp(80, allAllowed), tcp(81, (r) => r.expectPeer({ namespace: 'x' }, {}, false))],
  ),
  {
    name: 'should enforce updated policy',
    steps: [
      {
        does: 'allow all',
        policies: () => [pol('x', 'allow-all-mutate-to-deny-all', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [{}] })],
        expect: [tcp(81, allAllowed)],
      },
      {
        does: 'update it to deny all',
        policies: () => [pol('x', 'allow-all-mutate-to-deny-all', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [] })],
        expect: [tcp(81, (r) => r.expectPeer({}, { namespace: 'x' }, false))],
      },
    ],
  },
  {
    name: 'should allow ingress access from updated namespace',
    steps: [
      {
        does: 'a policy naming a namespace label nobody has',
        policies: () => [allowFromNsLabel()],
        expect: [tcp(80, (r) => r.expectAllIngress('x/a', false))],
      },
      {
        does: 'y gets the label',
        policies: () => [allowFromNsLabel()],
        namespaceLabels: { y: { ns: 'y', ns2: 'updated' } },
        expect: [tcp(80, (r) => r.expectAllIngress('x/a', false).expectPeer({ namespace: 'y' }, {}, true))],
      },
      {
        does: 'y loses the label again',
        policies: () => [allowFromNsLabel()],
        expect: [tcp(80, (r) => r.expectAllIngress('x/a', false))],
      },
    ],
  },
  {
    name: 'should allow ingress access from updated pod',
    steps: [
      {
        does: 'a policy naming pod labels nobody has',
        policies: () => [allowFromPodLabels()],
        expect: [tcp(80, (r) => r.expectAllIngress('x/a', false))],
      },
      {
        does: 'x/b gets the labels',
        policies: () => [allowFromPodLabels()],
        podLabels: { 'x/b': { pod: 'b', pod2: 'updated' } },
        expect: [tcp(80, (r) => r.expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
      },
    ],
  },
  one(
    'should deny ingress from pods on other namespaces',
    () => [pol('x', 'deny-empty-policy', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: ALL }] }] })],
    [tcp(80, (r) => r.expectPeer({ namespace: 'y' }, { namespace: 'x' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x' }, false))],
  ),
  {
    name: 'should deny ingress access to updated pod',
    steps: [
      {
        does: 'a deny for a label nobody has',
        policies: () => [denyIsolatedTarget()],
        expect: [tcp(80, allAllowed)],
      },
      {
        does: 'x/a gets the label',
        policies: () => [denyIsolatedTarget()],
        podLabels: { 'x/a': { pod: 'a', target: 'isolated' } },
        expect: [tcp(80, (r) => r.expectAllIngress('x/a', false))],
      },
    ],
  },
  one(
    'should deny egress from pods based on PodSelector',
    () => [pol('x', 'deny-egress-pod-a', { podSelector: podIs('a'), policyTypes: ['Egress'] })],
    [tcp(80, (r) => r.expectAllEgress('x/a', false)), udp(80, (r) => r.expectAllEgress('x/a', false))],
  ),
  one(
    'should deny egress from all pods in a namespace',
    () => [pol('x', 'deny-egress-ns-x', { podSelector: ALL, policyTypes: ['Egress'] })],
    [tcp(80, (r) => r.expectPeer({ namespace: 'x' }, {}, false))],
  ),
  one(
    'should work with Ingress, Egress specified together',
    () => [
      pol('x', 'allow-client-a-via-pod-selector', {
        podSelector: podIs('a'),
        policyTypes: ['Egress', 'Ingress'],
        ingress: [{ from: [{ podSelector: podIs('b') }] }],
        egress: [{ ports: [{ port: 80 }] }],
      }),
    ],
    [
      tcp(80, (r) => r.expectAllIngress('x/a', false).expect('x/b', 'x/a', true)),
      tcp(81, (r) => r.expectAllIngress('x/a', false).expectAllEgress('x/a', false).expect('x/b', 'x/a', true)),
    ],
  ),
  one(
    'should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)',
    () => {
      const fromXa = [{ from: [{ namespaceSelector: nsIs('x'), podSelector: podIs('a') }] }];
      return [
        pol('x', 'allow-to-ns-y-pod-a', {
          podSelector: podIs('a'),
          policyTypes: ['Egress'],
          egress: [{ to: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }],
        }),
        pol('y', 'allow-from-xa-on-ya-match-selector', { podSelector: podIs('a'), policyTypes: ['Ingress'], ingress: fromXa }),
        pol('y', 'allow-from-xa-on-yb-match-selector', { podSelector: podIs('b'), policyTypes: ['Ingress'], ingress: fromXa }),
      ];
    },
    [
      tcp(80, (r) =>
        r
          .expectPeer({ namespace: 'x', pod: 'a' }, {}, false)
          .expectPeer({}, { namespace: 'y', pod: 'a' }, false)
          .expectPeer({ namespace: 'x', pod: 'a' }, { namespace: 'y', pod: 'a' }, true)
          .expectPeer({}, { namespace: 'y', pod: 'b' }, false),
      ),
    ],
  ),
  one(
    'should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector',
    () => [
      pol('x', 'allow-to-ns-y-pod-a', {
        podSelector: podIs('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }],
      }),
    ],
    [tcp(80, (r) => r.expectAllEgress('x/a', false).expect('x/a', 'y/a', true))],
  ),
  one(
    'should enforce ingress policy allowing any port traffic to a server on a specific protocol',
    () => [
      pol('x', 'allow-ingress-by-proto', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ protocol: 'TCP' }] }],
      }),
    ],
    [tcp(80, allAllowed), tcp(81, allAllowed), udp(80, (r) => r.expectPeer({}, { namespace: 'x', pod: 'a' }, false))],
  ),
  {
    name: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence',
    steps: [
      {
        does: 'allow port 80 only',
        policies: () => [
          pol('x', 'allow-ingress-port-80', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 80 }] }] }),
        ],
        expect: [tcp(81, (r) => r.expectPeer({}, { namespace: 'x' }, false)), tcp(80, allAllowed)],
      },
      {
        does: 'and an allow-all',
        policies: () => [
          pol('x', 'allow-ingress-port-80', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 80 }] }] }),
          pol('x', 'allow-ingress', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [{}] }),
        ],
        expect: [tcp(81, allAllowed)],
      },
    ],
  },
  {
    name: 'should enforce multiple egress policies with egress allow-all policy taking precedence',
    steps: [
      {
        does: 'allow port 80 only',
        policies: () => [
          pol('x', 'allow-egress-port-80', { podSelector: ALL, policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] }),
        ],
        expect: [tcp(81, (r) => r.expectPeer({ namespace: 'x' }, {}, false)), tcp(80, allAllowed)],
      },
      {
        does: 'and an allow-all',
        policies: () => [
          pol('x', 'allow-egress-port-80', { podSelector: ALL, policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] }),
          pol('x', 'allow-egress', { podSelector: ALL, policyTypes: ['Egress'], egress: [{}] }),
        ],
        expect: [tcp(81, allAllowed)],
      },
    ],
  },
  {
    name: 'should stop enforcing policies after they are deleted',
    steps: [
      {
        does: 'deny all in and out of x',
        policies: () => [pol('x', 'deny-all', { podSelector: ALL, policyTypes: ['Ingress', 'Egress'] })],
        expect: [tcp(80, (r) => r.expectPeer({ namespace: 'x' }, {}, false).expectPeer({}, { namespace: 'x' }, false))],
      },
      { does: 'delete it', policies: () => [], expect: [tcp(80, allAllowed), udp(81, allAllowed)] },
    ],
  },
  one(
    'should allow egress access to server in CIDR block',
    (ip) => [
      pol('x', 'allow-client-a-via-cidr-egress-rule', {
        podSelector: podIs('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: `${ip('y/b')}/32` } }] }],
      }),
    ],
    [tcp(80, (r) => r.expectAllEgress('x/a', false).expect('x/a', 'y/b', true))],
  ),
  one('should enforce except clause while egress access to server in CIDR block', (ip) => [exceptXb(ip)], [
    tcp(80, (r) => r.expect('x/a', 'x/b', false)),
    udp(81, (r) => r.expect('x/a', 'x/b', false)),
  ]),
  {
    name: 'should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed',
    steps: [
      { does: 'a CIDR except x/b', policies: (ip) => [exceptXb(ip)], expect: [tcp(80, (r) => r.expect('x/a', 'x/b', false))] },
      {
        does: 'updated to x/b alone',
        policies: (ip) => [
          pol('x', 'allow-client-a-via-cidr-egress-rule', {
            podSelector: podIs('a'),
            policyTypes: ['Egress'],
            egress: [{ to: [{ ipBlock: { cidr: `${ip('x/b')}/32` } }] }],
          }),
        ],
        expect: [tcp(80, (r) => r.expectAllEgress('x/a', false).expect('x/a', 'x/b', true))],
      },
    ],
  },
  {
    name: 'should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector',
    steps: [
      {
        does: 'allow all egress of x/a',
        policies: () => [pol('x', 'allow-egress-for-target', { podSelector: podIs('a'), policyTypes: ['Egress'], egress: [{}] })],
        expect: [tcp(80, allAllowed)],
      },
      {
        does: 'and deny its ingress',
        policies: () => [
          pol('x', 'allow-egress-for-target', { podSelector: podIs('a'), policyTypes: ['Egress'], egress: [{}] }),
          pol('x', 'deny-ingress-via-label-selector', { podSelector: podIs('a'), policyTypes: ['Ingress'] }),
        ],
        expect: [tcp(80, (r) => r.expectAllIngress('x/a', false))],
      },
    ],
  },
  one(
    "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    () => [
      denyIngressX,
      pol('x', 'allow-only-sctp-ingress-on-port-81', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 81, protocol: 'SCTP' }] }],
      }),
    ],
    [tcp(81, (r) => r.expectPeer({}, { namespace: 'x' }, false))],
  ),
  one(
    "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    () => [
      pol('x', 'allow-only-sctp-ingress-on-port-80', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 80, protocol: 'SCTP' }] }],
      }),
    ],
    [tcp(81, (r) => r.expectAllIngress('x/a', false)), tcp(80, (r) => r.expectAllIngress('x/a', false))],
  ),
  one(
    'should not allow access by TCP when a policy specifies only UDP',
    () => [
      pol('x', 'allow-only-udp-ingress-on-port-81', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 81, protocol: 'UDP' }] }],
      }),
    ],
    [tcp(81, (r) => r.expectAllIngress('x/a', false)), udp(81, allAllowed), udp(80, (r) => r.expectAllIngress('x/a', false))],
  ),
  one(
    'should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label',
    () => [
      pol('x', 'allow-client-a-via-ns-selector-for-immutable-ns-label', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: nsIs('y') }] }],
      }),
    ],
    [
      tcp(80, (r) =>
        r
          .expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
          .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false),
      ),
    ],
  ),
  one(
    'should enforce policy based on NamespaceSelector with MatchExpressions using default ns label',
    () => [
      pol('x', 'allow-ns-y-match-selector-for-immutable-ns-label', {
        podSelector: podIs('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: NS_NAME, operator: 'NotIn', values: ['y'] }] } }] }],
      }),
    ],
    [tcp(80, (r) => r.expectPeer({ namespace: 'x', pod: 'a' }, { namespace: 'y' }, false))],
  ),
  // ---- beyond upstream's list: what the issue names and upstream's helpers have ----
  {
    name: 'endPort: a port range allows every port in it, and only those',
    steps: [
      {
        does: 'TCP 80-81 from y',
        policies: () => [allowNsYRange(80, 81)],
        expect: [tcp(80, reachAllowY), tcp(81, reachAllowY), udp(80, (r) => r.expectAllIngress('x/a', false))],
      },
      {
        does: 'updated to TCP 81-90',
        policies: () => [allowNsYRange(81, 90)],
        expect: [tcp(80, (r) => r.expectAllIngress('x/a', false)), tcp(81, reachAllowY)],
      },
    ],
  },
  one(
    'deny all but egress to a DNS-like port (UDP 81), as upstream GetDenyAllWithEgressDNS',
    () => [
      pol('x', 'deny-all-tcp-allow-dns', {
        podSelector: ALL,
        policyTypes: ['Egress', 'Ingress'],
        ingress: [],
        egress: [{ ports: [{ protocol: 'UDP', port: 81 }] }],
      }),
    ],
    [
      tcp(80, (r) => r.expectPeer({ namespace: 'x' }, {}, false).expectPeer({}, { namespace: 'x' }, false)),
      tcp(81, (r) => r.expectPeer({ namespace: 'x' }, {}, false).expectPeer({}, { namespace: 'x' }, false)),
      udp(81, (r) => r.expectPeer({}, { namespace: 'x' }, false)),
      udp(80, (r) => r.expectPeer({ namespace: 'x' }, {}, false).expectPeer({}, { namespace: 'x' }, false)),
    ],
  ),
  one(
    'a named port no pod has selects nothing, and a named port towards an ipBlock selects nothing (never every port)',
    () => [
      pol('x', 'ingress-unknown-name', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 'serve-99-tcp' }] }],
      }),
      pol('x', 'egress-named-to-cidr', {
        podSelector: podIs('b'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 'serve-80-tcp' }] }],
      }),
    ],
    [
      tcp(80, (r) => r.expectAllIngress('x/a', false).expectAllEgress('x/b', false)),
      tcp(81, (r) => r.expectAllIngress('x/a', false).expectAllEgress('x/b', false)),
    ],
  ),
  one(
    'named ports resolve on the pod that receives: egress per peer pod, ingress on the selected pod itself',
    () => [
      pol('x', 'egress-web', {
        podSelector: podIs('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 'web' }] }],
      }),
      pol('z', 'ingress-web', { podSelector: ALL, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'web' }] }] }),
    ],
    [
      // y/a names 80 `web`, y/b names 81 `web`, y/c has no `web`; in z, a names 80 and b 81
      tcp(80, (r) =>
        r.expectAllEgress('x/a', false).expect('x/a', 'y/a', true).expectAllIngress('z/b', false).expectAllIngress('z/c', false),
      ),
      tcp(81, (r) =>
        r
          .expectAllEgress('x/a', false)
          .expect('x/a', 'y/b', true)
          .expectAllIngress('z/a', false)
          .expectAllIngress('z/c', false)
          .expect('x/a', 'z/b', false),
      ),
      // `web` is TCP only
      udp(80, (r) => r.expectAllEgress('x/a', false).expectPeer({}, { namespace: 'z' }, false)),
    ],
    {
      extraNamedPorts: {
        'y/a': [{ name: 'web', protocol: 'TCP', containerPort: 80 }],
        'y/b': [{ name: 'web', protocol: 'TCP', containerPort: 81 }],
        'z/a': [{ name: 'web', protocol: 'TCP', containerPort: 80 }],
        'z/b': [{ name: 'web', protocol: 'TCP', containerPort: 81 }],
      },
    },
  ),
  one(
    'ingress from an ipBlock with except: the block matches pod addresses too',
    (ip) => [
      pol('x', 'allow-from-cidr-except-ya', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ ipBlock: { cidr: slash4(ip('y/a')), except: [`${ip('y/a')}/32`] } }] }],
      }),
    ],
    [tcp(80, (r) => r.expect('y/a', 'x/a', false)), udp(81, (r) => r.expect('y/a', 'x/a', false))],
  ),
  one(
    'matchExpressions Exists and DoesNotExist, NotIn of a pod without the label',
    () => [
      pol('x', 'exists', {
        podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }] }],
      }),
      pol('y', 'notin', {
        podSelector: podIs('a'),
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ namespaceSelector: ALL, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] } }],
          },
        ],
      }),
    ],
    [
      // x/a and x/b have a tier: they only hear pods of x without one (x/c); y/a hears every pod but x/a (tier front)
      tcp(80, (r) =>
        r
          .expectAllIngress('x/a', false)
          .expectAllIngress('x/b', false)
          .expect('x/c', 'x/a', true)
          .expect('x/c', 'x/b', true)
          .expect('x/a', 'y/a', false),
      ),
    ],
    { podLabels: { 'x/a': { pod: 'a', tier: 'front' }, 'x/b': { pod: 'b', tier: 'back' } } },
  ),
];

function allowNsYPort(name: string, port: number): NetpolObject {
  return pol('x', name, {
    podSelector: podIs('a'),
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port, protocol: 'TCP' }] }],
  });
}

function allowNsYRange(port: number, endPort: number): NetpolObject {
  return pol('x', 'allow-range-from-y', {
    podSelector: podIs('a'),
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ protocol: 'TCP', port, endPort }] }],
  });
}

function reachAllowY(r: Reachability): void {
  r.expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false)
    .expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true)
    .expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false);
}

function allowFromNsLabel(): NetpolObject {
  return pol('x', 'allow-client-a-via-ns-selector', {
    podSelector: podIs('a'),
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }],
  });
}

function allowFromPodLabels(): NetpolObject {
  return pol('x', 'allow-client-a-via-pod-selector', {
    podSelector: podIs('a'),
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b', pod2: 'updated' } } }] }],
  });
}

function denyIsolatedTarget(): NetpolObject {
  return pol('x', 'deny-ingress-via-label-selector', { podSelector: { matchLabels: { target: 'isolated' } }, policyTypes: ['Ingress'] });
}

function exceptXb(ip: IpOf): NetpolObject {
  return pol('x', 'allow-client-a-via-cidr-egress-rule', {
    podSelector: podIs('a'),
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: slash4(ip('x/b')), except: [`${ip('x/b')}/32`] } }] }],
  });
}

/**
 * The handful the real-traffic tests run on each backend (every pod pair, TCP and UDP): isolation
 * both ways, selectors ANDed, namespace label changes, ipBlock except, port ranges, UDP, named
 * ports resolved per pod, a delete.
 */
export const WIRE_SCENARIOS: readonly string[] = [
  "should support a 'default-deny-all' policy",
  'should enforce policy based on PodSelector and NamespaceSelector',
  'should allow ingress access from updated namespace',
  'should enforce except clause while egress access to server in CIDR block',
  'endPort: a port range allows every port in it, and only those',
  'deny all but egress to a DNS-like port (UDP 81), as upstream GetDenyAllWithEgressDNS',
  'named ports resolve on the pod that receives: egress per peer pod, ingress on the selected pod itself',
  'should stop enforcing policies after they are deleted',
];
