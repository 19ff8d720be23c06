/**
 * Policy as the backends see it, whatever it came from (Contiv's rules today, Kubernetes
 * NetworkPolicy later): per local endpoint and direction, ordered-by-priority rules over address
 * sets and services, and whether traffic no rule matches is denied (isolation). Plain data; see
 * docs/policy.md for the semantics and evaluate.ts for their reference implementation.
 */

/** IPv4 addresses: those in `include` (CIDRs) that are in none of `exclude` (Kubernetes' ipBlock except). */
export interface AddressSet {
  include: string[];
  exclude: string[];
}

export const ANY_ADDRESS: AddressSet = { include: ['0.0.0.0/0'], exclude: [] };

/** tcp, udp, icmp or another IP protocol number. */
export type Protocol = 'tcp' | 'udp' | 'icmp' | number;

export interface PortRange {
  from: number;
  to: number;
}

/** What traffic a rule covers: a protocol (absent: any) and, for tcp/udp, ports (absent or empty: any). */
export interface Service {
  protocol?: Protocol;
  ports?: PortRange[];
}

export interface PolicyRule {
  /** where it comes from, for counters and explanations (`tenant:policy/ruleId`) */
  id: string;
  /** the other end: the source of ingress traffic, the destination of egress traffic */
  peers: AddressSet;
  /** any of them (empty: every service) */
  services: Service[];
  action: 'allow' | 'deny';
  /** higher first; at equal priority deny wins */
  priority: number;
}

export interface DirectionPolicy {
  /** traffic no rule matches is denied (Kubernetes once a policy selects the endpoint); else allowed (Contiv) */
  isolated: boolean;
  rules: PolicyRule[];
}

export interface EndpointPolicy {
  endpoint: string;
  ip: string;
  tenant: string;
  /** traffic to the endpoint */
  ingress: DirectionPolicy;
  /** traffic from the endpoint */
  egress: DirectionPolicy;
}

export const OPEN: DirectionPolicy = { isolated: false, rules: [] };
