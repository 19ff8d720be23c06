/**
 * The Kubernetes part of the agent's desired state (proto/netloom/agent.proto: KubePod on an
 * endpoint, KubeNetworkPolicy and KubeNamespace in HostState), as types and the zod schemas
 * parseHostState checks them with. netmaster's controller has already refused what the API server
 * would refuse; the agent still checks what it compiles, so that a bad value names its field
 * instead of becoming a wrong flow: selector operators and their values, CIDRs (an `except`
 * inside its CIDR), protocols, ports 1..65535 (endPort >= port, with a numeric port only), named
 * ports, a peer that is an ipBlock or selectors. IPv6 ipBlocks are accepted and match no IPv4
 * address (policy covers IPv4; lib/policy/kubernetes.ts).
 *
 * Absent messages arrive as null (@grpc/proto-loader with defaults) or not at all; absent vs empty
 * matters for a peer's selectors, so null is kept there.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { SELECTOR_OPERATORS, type SelectorOperator } from '../../lib/policy/label-selector';

export type KubeProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface KubeNamedPort {
  name: string;
  protocol: KubeProtocol;
  port: number;
}

/** The pod an endpoint is (its labels are the endpoint's). */
export interface KubePod {
  namespace: string;
  name: string;
  uid: string;
  namedPorts: KubeNamedPort[];
}

export interface KubeSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}

export interface KubeLabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: KubeSelectorRequirement[];
}

export interface KubeIpBlock {
  cidr: string;
  except: string[];
}

/** null: not set (a peer's absent namespaceSelector means the policy's own namespace). */
export interface KubePolicyPeer {
  podSelector: KubeLabelSelector | null;
  namespaceSelector: KubeLabelSelector | null;
  ipBlock: KubeIpBlock | null;
}

/** port 0 and namedPort '': every port of the protocol; endPort 0: the port alone. */
export interface KubePolicyPort {
  protocol: KubeProtocol;
  port: number;
  namedPort: string;
  endPort: number;
}

/** peers empty: every peer; ports empty: every port and protocol. */
export interface KubePolicyRule {
  peers: KubePolicyPeer[];
  ports: KubePolicyPort[];
}

export interface KubeNetworkPolicy {
  /** namespace/name */
  key: string;
  namespace: string;
  name: string;
  /** null: every pod of the namespace (as an empty selector) */
  podSelector: KubeLabelSelector | null;
  ingressIsolation: boolean;
  egressIsolation: boolean;
  ingress: KubePolicyRule[];
  egress: KubePolicyRule[];
}

export interface KubeNamespace {
  /** the namespace's name */
  key: string;
  labels: Record<string, string>;
}

// ---------- schemas ----------

const str = z.string().default('');

const port = (what: string, min: number) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be an integer` })
    .min(min, { error: `${what} must be ${min}..65535` })
    .max(65535, { error: `${what} must be ${min}..65535` })
    .default(0);

/** The protocol as the API names it; '' is the API's default, TCP. */
const protocol = z
  .union([z.literal(''), z.enum(['TCP', 'UDP', 'SCTP'])], { error: "protocol must be 'TCP', 'UDP' or 'SCTP'" })
  .default('')
  .transform((p): KubeProtocol => (p === '' ? 'TCP' : p));

/** IANA_SVC_NAME, as the API checks a port name: 1-15 of a-z, 0-9 and '-', a letter among them, no '--', no '-' at either end. */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*$/;
const portName = (what: string) =>
  z
    .string()
    .max(15, { error: `${what} has at most 15 characters` })
    .refine((s) => PORT_NAME.test(s) && !s.endsWith('-'), {
      error: `${what} must be a port name (a-z, 0-9 and '-', with a letter, no '--', no '-' at either end)`,
    });

const labelMap = z.record(z.string(), z.string()).default({});

const requirementSchema = z
  .object({
    key: z.string().min(1, { error: 'a selector requirement needs a key' }),
    operator: z.enum(SELECTOR_OPERATORS, { error: "operator must be 'In', 'NotIn', 'Exists' or 'DoesNotExist'" }),
    values: z.array(z.string()).default([]),
  })
  .superRefine((r, ctx) => {
    const needs = r.operator === 'In' || r.operator === 'NotIn';
    if (needs && r.values.length === 0)
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${r.operator} needs at least one value` });
    if (!needs && r.values.length > 0)
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${r.operator} takes no values` });
  });

const selectorSchema = z.object({
  matchLabels: labelMap,
  matchExpressions: z.array(requirementSchema).default([]),
});

/** A selector that may be absent (null kept: absent and empty differ). */
const optSelector = selectorSchema
  .nullish()
  .default(null)
  .transform((s) => s ?? null);

function parseCidr(s: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    return ipaddr.parseCIDR(s);
  } catch {
    return undefined;
  }
}

const cidr = (what: string) => z.string().refine((s) => parseCidr(s) !== undefined, { error: `${what} must be a CIDR like 10.1.0.0/16` });

const ipBlockSchema = z.object({ cidr: cidr('cidr'), except: z.array(cidr('except')).default([]) }).superRefine((b, ctx) => {
  const outer = parseCidr(b.cidr);
  if (!outer) return;
  b.except.forEach((e, i) => {
    const inner = parseCidr(e);
    if (!inner) return;
    const inside = inner[0].kind() === outer[0].kind() && inner[1] >= outer[1] && inner[0].match(outer);
    if (!inside) ctx.addIssue({ code: 'custom', path: ['except', i], message: `except ${e} is not inside cidr ${b.cidr}` });
  });
});

const peerSchema = z
  .object({
    podSelector: optSelector,
    namespaceSelector: optSelector,
    ipBlock: ipBlockSchema
      .nullish()
      .default(null)
      .transform((b) => b ?? null),
  })
  .superRefine((p, ctx) => {
    if (p.ipBlock && (p.podSelector || p.namespaceSelector))
      ctx.addIssue({ code: 'custom', path: ['ipBlock'], message: 'a peer is an ipBlock or selectors, not both' });
    if (!p.ipBlock && !p.podSelector && !p.namespaceSelector)
      ctx.addIssue({ code: 'custom', path: ['podSelector'], message: 'a peer needs a podSelector, a namespaceSelector or an ipBlock' });
  });

const policyPortSchema = z
  .object({ protocol, port: port('port', 0), namedPort: str, endPort: port('endPort', 0) })
  .superRefine((p, ctx) => {
    if (p.namedPort !== '') {
      if (p.port !== 0) ctx.addIssue({ code: 'custom', path: ['namedPort'], message: 'a port is a number or a name, not both' });
      const named = portName('namedPort').safeParse(p.namedPort);
      if (!named.success) ctx.addIssue({ code: 'custom', path: ['namedPort'], message: named.error.issues[0]!.message });
    }
    if (p.endPort !== 0) {
      if (p.port === 0) ctx.addIssue({ code: 'custom', path: ['endPort'], message: 'endPort needs a numeric port' });
      else if (p.endPort < p.port)
        ctx.addIssue({ code: 'custom', path: ['endPort'], message: `endPort ${p.endPort} is below port ${p.port}` });
    }
  });

const ruleSchema = z.object({
  peers: z.array(peerSchema).default([]),
  ports: z.array(policyPortSchema).default([]),
});

export const kubePolicySchema = z
  .object({
    key: z.string().min(1, { error: 'policy key is required' }),
    namespace: z.string().min(1, { error: 'policy namespace is required' }),
    name: z.string().min(1, { error: 'policy name is required' }),
    podSelector: optSelector,
    ingressIsolation: z.boolean({ error: 'ingressIsolation must be a boolean' }).default(false),
    egressIsolation: z.boolean({ error: 'egressIsolation must be a boolean' }).default(false),
    ingress: z.array(ruleSchema).default([]),
    egress: z.array(ruleSchema).default([]),
  })
  .refine((p) => p.key === `${p.namespace}/${p.name}`, { error: 'key must be namespace/name', path: ['key'] });

export const kubeNamespaceSchema = z.object({
  key: z.string().min(1, { error: 'namespace key is required' }),
  labels: labelMap,
});

export const kubePodSchema = z.object({
  namespace: z.string().min(1, { error: 'pod namespace is required' }),
  name: z.string().min(1, { error: 'pod name is required' }),
  uid: str,
  namedPorts: z
    .array(
      z.object({
        name: portName('named port name'),
        protocol,
        port: port('named port', 1).pipe(z.number().min(1, { error: 'named port must be 1..65535' })),
      }),
    )
    .default([]),
});

/**
 * A pod as the agent itself recorded it (an endpoint it allocated before netmaster's view lists
 * it): checked like the wire's; named ports that fail the check are dropped (they then resolve to
 * nothing, never to every port) rather than the pod, so that policy still selects it.
 */
export function kubePodOf(raw: { namespace: string; name: string; uid?: string; namedPorts?: unknown[] }): KubePod {
  const whole = kubePodSchema.safeParse(raw);
  if (whole.success) return whole.data;
  return { namespace: raw.namespace, name: raw.name, uid: raw.uid ?? '', namedPorts: [] };
}

// compile-time checks that the schemas produce the declared types
type Assignable<T, U extends T> = U;
export type _KubePolicyCheck = Assignable<KubeNetworkPolicy, z.output<typeof kubePolicySchema>>;
export type _KubeNamespaceCheck = Assignable<KubeNamespace, z.output<typeof kubeNamespaceSchema>>;
export type _KubePodCheck = Assignable<KubePod, z.output<typeof kubePodSchema>>;
