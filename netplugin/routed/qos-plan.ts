/**
 * QoS of routed endpoints (pure): a netprofile's bandwidth and burst with tc, its DSCP with
 * nftables, all on the host's side (the container is not touched; works for CNI and CNM alike).
 * This kernel has no police action (act_police), so both directions are shaped, as the CNI
 * `bandwidth` plugin does:
 * - to the container (its ingress): a `tbf` as root qdisc of the host end (the host end's egress);
 * - from the container (its egress): the host end's ingress redirected (u32 match-all, mirred) to an
 *   ifb device of its own (`nlb` + the host end's suffix) whose root is the same `tbf`.
 * Burst: the profile's (kbytes), else 10 ms of the rate (at least 16 KiB): a short burst keeps a
 * measured rate within a few percent of the profile's (a one-second burst, the OVS meters' default,
 * lets a 5 s test run 20% over). DSCP: a prerouting (mangle) line per marked endpoint in table
 * `inet netloom_qos` sets the DSCP of what the container sends.
 */
import { NetloomError } from '../../lib/errors';

export const NFT_QOS_FAMILY = 'inet';
export const NFT_QOS_TABLE = 'netloom_qos';

export interface RoutedQosEndpoint {
  endpoint: string;
  hostIf: string;
  /** kbit/s (0: not shaped) */
  rateKbps: number;
  /** kbytes (0: the default) */
  burstKb: number;
  /** 0..63 (0: not marked) */
  dscp: number;
}

/** The ifb device of a host end (the container's egress is shaped there). */
export function ifbOf(hostIf: string): string {
  return `nlb${hostIf.slice(2)}`.slice(0, 15);
}

/** The tbf burst in bytes. */
export function burstBytes(q: Pick<RoutedQosEndpoint, 'rateKbps' | 'burstKb'>): number {
  if (q.burstKb > 0) return q.burstKb * 1024;
  return Math.max(16 * 1024, Math.ceil((q.rateKbps * 1000) / 8 / 100));
}

function tbf(dev: string, q: RoutedQosEndpoint): string[] {
  return ['qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${q.rateKbps}kbit`, 'burst', String(burstBytes(q)), 'latency', '50ms'];
}

/** The commands that shape one endpoint (each `[cmd, ...args]`, idempotent: `replace`, ifb made when missing by the applier). */
export function shapeCommands(q: RoutedQosEndpoint): string[][] {
  if (q.rateKbps <= 0) return [];
  const ifb = ifbOf(q.hostIf);
  return [
    ['tc', ...tbf(q.hostIf, q)],
    ['ip', 'link', 'set', ifb, 'up'],
    ['tc', ...tbf(ifb, q)],
    ['tc', 'qdisc', 'replace', 'dev', q.hostIf, 'handle', 'ffff:', 'ingress'],
    [
      'tc',
      'filter',
      'replace',
      'dev',
      q.hostIf,
      'parent',
      'ffff:',
      'protocol',
      'all',
      'prio',
      '1',
      'u32',
      'match',
      'u32',
      '0',
      '0',
      'action',
      'mirred',
      'egress',
      'redirect',
      'dev',
      ifb,
    ],
  ];
}

/** The commands that take one endpoint's shaping away (failures are fine: parts may be gone). */
export function unshapeCommands(hostIf: string): string[][] {
  return [
    ['tc', 'qdisc', 'del', 'dev', hostIf, 'root'],
    ['tc', 'qdisc', 'del', 'dev', hostIf, 'ingress'],
    ['ip', 'link', 'del', ifbOf(hostIf)],
  ];
}

/** netloom's ifb devices are named by ifbOf: `nlb` + the host end's suffix. */
export const IFB_PREFIX = 'nlb';

/**
 * What takes away the shaping nothing asks for any more, found at an agent's start (pure): of the
 * host's ifb devices (`existing`), netloom's (IFB_PREFIX) whose endpoint is not shaped now. One
 * whose host end is still there (a profile removed while the agent was down) is unshaped whole;
 * one whose host end is gone (the endpoint went while the agent was down) is deleted. Other ifb
 * devices are left alone.
 */
export function staleIfbCommands(existing: readonly string[], shaped: ReadonlySet<string>, hostIfs: readonly string[]): string[][] {
  const wanted = new Set([...shaped].map(ifbOf));
  const hostIfOf = new Map(hostIfs.map((h) => [ifbOf(h), h]));
  return existing
    .filter((name) => name.startsWith(IFB_PREFIX) && !wanted.has(name))
    .sort()
    .flatMap((name) => {
      const hostIf = hostIfOf.get(name);
      return hostIf ? unshapeCommands(hostIf) : [['ip', 'link', 'del', name]];
    });
}

/** The DSCP table's text ('' when no endpoint is marked: no table). */
export function renderDscpTable(qs: readonly RoutedQosEndpoint[]): string {
  const marked = qs.filter((q) => q.dscp > 0).sort((a, b) => (a.hostIf < b.hostIf ? -1 : a.hostIf > b.hostIf ? 1 : 0));
  if (marked.length === 0) return '';
  for (const q of marked)
    if (!Number.isInteger(q.dscp) || q.dscp > 63)
      throw new NetloomError('INVALID_ARGUMENT', `dscp of ${q.endpoint}: ${q.dscp} is not a DSCP value (0..63)`, { field: 'dscp' });
  const lines = marked.map((q) => `\t\tiifname "${q.hostIf}" ip dscp set ${q.dscp}`);
  return [
    `table ${NFT_QOS_FAMILY} ${NFT_QOS_TABLE} {`,
    '\tchain endpoint_dscp {',
    '\t\ttype filter hook prerouting priority mangle; policy accept;',
    ...lines,
    '\t}',
    '}',
    '',
  ].join('\n');
}
