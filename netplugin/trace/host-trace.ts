/**
 * One host's trace in netloom's terms: runs `ovs-appctl ofproto/trace` on br-int for a packet
 * (trace-flow.ts), parses it (ofproto-trace.ts) and names what the packet met: each step's table
 * by the pipeline's names, each flow's cookie by its feature and the object the installed flow
 * serves (the reconciler knows the objects; a cookie only carries their hash), the decisions of
 * the policy tables (a rule `tenant:policy/ruleId` or `k8s:NAMESPACE/NAME/DIRECTION/INDEX`, or an
 * endpoint's isolation default deny), and
 * where the packet went: local endpoint, tunnel (VNI and remote VTEP), uplink (VLAN) or dropped.
 *
 * A decision denies when its flow sets the policy's denied flag (the packet then goes on to
 * ctCommit, which drops it) or was the last one the packet met with nothing output; it allows
 * when the packet went on without the flag. Conntrack is followed with `--ct-next trk,new`
 * for every recirculation: the packet is the first of a new connection.
 */
import { NetloomError } from '../../lib/errors';
import { controlPathOfPidFile } from '../../ovs/unixctl';
import type { CommandRunner } from '../../lib/exec';
import { FLAG, PIPELINE } from '../pipeline/tables';
import { parseCookie, type Feature } from '../reconcile/cookie';
import { flowFields, parseOfprotoTrace, type RawTrace } from './ofproto-trace';
import { traceFlow, type TraceFacts, type TracePacket } from './trace-flow';
import type { TraceStep__Output } from '../../proto/gen/netloom/v1/TraceStep';

/** A step as the agent API carries it (TraceStep of proto/netloom/agent.proto). */
export type TraceStep = TraceStep__Output;

export interface PolicyDecision {
  direction: 'egress' | 'ingress';
  table: number;
  tableName: string;
  object: string;
  tenant: string;
  policy: string;
  ruleId: string;
  isolationEndpoint: string;
  action: 'allow' | 'deny';
}

export interface TraceOutput {
  port: number;
  kind: 'endpoint' | 'tunnel' | 'uplink' | 'port';
  endpoint: string;
  tunId: bigint;
  tunDst: string;
  vlan: number;
}

/** TraceResult of proto/netloom/agent.proto. */
export interface HostTraceResult {
  host: string;
  flow: string;
  steps: TraceStep[];
  decisions: PolicyDecision[];
  outputs: TraceOutput[];
  dropped: boolean;
  dlSrc: string;
  dlDst: string;
  ttl: number;
  tunSrc: string;
  raw: string;
}

/** What naming a trace needs from the agent, besides TraceFacts. */
export interface NamingFacts {
  /** the object of an installed flow with this feature and object hash */
  objectOf(feature: Feature, hash: number): string | undefined;
  /** the local endpoint on an ofport */
  endpointOnPort(ofport: number): string | undefined;
  vxlanPort: number | undefined;
  uplinkPort: number | undefined;
}

const TABLE_NAMES = new Map(PIPELINE.map((t) => [t.id, t.name]));
const POLICY_TABLES: Record<string, 'egress' | 'ingress'> = { egressPolicy: 'egress', ingressPolicy: 'ingress' };
/** `tenant:policy/ruleId` (the policy backend's object of a rule's deciding flow) */
const RULE_RE = /^([^:/]+):([^/]+)\/(.+)$/;
/** a Kubernetes NetworkPolicy's rule, `k8s:NAMESPACE/NAME/DIRECTION/INDEX` (lib/policy/kubernetes.ts): policy `k8s:NAMESPACE/NAME` */
const KUBE_RULE_RE = /^(k8s:[^/]+\/[^/]+)\/(.+)$/;
const ISOLATION_PREFIX = 'isolation:';

export function tableName(id: number): string {
  return TABLE_NAMES.get(id) ?? `table${id}`;
}

/**
 * Whether a flow's actions set the policy's denied flag (reg5 bit 4): a deny goes on to ctCommit,
 * which drops the packet there (features/policy.ts). OVS prints the one-bit load as
 * `load:0x1->NXM_NX_REG5[4]` (or as a masked set_field on reg5).
 */
export function setsDenied(actions: readonly string[]): boolean {
  const bit = Math.log2(FLAG.denied);
  const mask = `0x${FLAG.denied.toString(16)}`;
  return actions.some(
    (a) => a === `load:0x1->NXM_NX_REG5[${bit}]` || new RegExp(`^set_field:${mask}/${mask}->(reg5|NXM_NX_REG5)$`).test(a),
  );
}

/**
 * The decision a policy-table flow took: deny when it sets the denied flag, or when the packet
 * went no further (a flow that just drops); allow when the packet went on.
 */
export function policyDecision(step: TraceStep, wentOn: boolean): PolicyDecision | undefined {
  const direction = POLICY_TABLES[step.tableName];
  if (!direction || step.feature !== 'policy') return undefined;
  const d: PolicyDecision = {
    direction,
    table: step.table,
    tableName: step.tableName,
    object: step.object,
    tenant: '',
    policy: '',
    ruleId: '',
    isolationEndpoint: '',
    action: wentOn && !setsDenied(step.actions) ? 'allow' : 'deny',
  };
  if (step.object.startsWith(ISOLATION_PREFIX)) d.isolationEndpoint = step.object.slice(ISOLATION_PREFIX.length);
  else if (KUBE_RULE_RE.test(step.object)) {
    const [, policy, rule] = KUBE_RULE_RE.exec(step.object)!;
    d.policy = policy ?? '';
    d.ruleId = rule ?? '';
  } else {
    const m = RULE_RE.exec(step.object);
    if (m) {
      d.tenant = m[1] ?? '';
      d.policy = m[2] ?? '';
      d.ruleId = m[3] ?? '';
    }
  }
  return d;
}

const OUTPUT_RE = /^output:(\d+)$/;
const SET_RE = /^set_field:([^-]+)->(tun_id|tun_dst|vlan_vid)$/;

/** The outputs of the steps (ports by number; what each port is from the facts). */
function outputsOf(steps: readonly TraceStep[], facts: NamingFacts): TraceOutput[] {
  const out: TraceOutput[] = [];
  for (const s of steps) {
    let tunId = 0n;
    let tunDst = '';
    let vlan = 0;
    for (const a of s.actions) {
      const set = SET_RE.exec(a);
      if (set) {
        const v = set[1] ?? '';
        if (set[2] === 'tun_id') tunId = BigInt(v);
        else if (set[2] === 'tun_dst') tunDst = v;
        else vlan = Number(v) & 0xfff;
        continue;
      }
      const m = OUTPUT_RE.exec(a);
      if (!m) continue;
      const port = Number(m[1]);
      const o: TraceOutput = { port, kind: 'port', endpoint: '', tunId: 0n, tunDst: '', vlan: 0 };
      const ep = facts.endpointOnPort(port);
      if (port === facts.vxlanPort) Object.assign(o, { kind: 'tunnel', tunId, tunDst });
      else if (port === facts.uplinkPort) Object.assign(o, { kind: 'uplink', vlan });
      else if (ep !== undefined) Object.assign(o, { kind: 'endpoint', endpoint: ep });
      out.push(o);
    }
  }
  return out;
}

/** A parsed trace in netloom's terms (pure). */
export function nameTrace(raw: RawTrace, facts: NamingFacts): Omit<HostTraceResult, 'host' | 'flow' | 'tunSrc' | 'raw'> {
  const steps: TraceStep[] = raw.steps.map((r) => {
    let feature = '';
    let object = '';
    if (r.cookie !== '') {
      const c = parseCookie(BigInt(r.cookie));
      if (c.ours && c.feature) {
        feature = c.feature;
        object = c.objectHash === 0 ? '' : (facts.objectOf(c.feature, c.objectHash) ?? '');
      }
    }
    return {
      table: r.table,
      tableName: tableName(r.table),
      priority: r.priority ?? 0,
      match: r.priority === undefined ? '(no match)' : r.match,
      cookie: r.cookie,
      feature,
      object,
      actions: r.actions,
      pass: r.pass,
    };
  });
  const outputs = outputsOf(steps, facts);
  const dropped = outputs.length === 0;
  const decisions: PolicyDecision[] = [];
  steps.forEach((s, i) => {
    const d = policyDecision(s, i < steps.length - 1 || !dropped);
    if (d) decisions.push(d);
  });
  // the packet as it leaves: the last pass's final flow (or its start when OVS says unchanged)
  const last = raw.passes.at(-1);
  const f = flowFields(last ? last.finalFlow || last.flow : '');
  const ttl = Number(f.get('nw_ttl') ?? '0');
  return {
    steps,
    decisions,
    outputs,
    dropped,
    dlSrc: f.get('dl_src') ?? '',
    dlDst: f.get('dl_dst') ?? '',
    ttl: Number.isInteger(ttl) ? ttl : 0,
  };
}

export interface HostTraceOptions {
  host: string;
  /** OVS's run directory (holds ovs-vswitchd.pid and its control socket) */
  ovsRunDir: string;
  bridge: string;
  /** this host's VTEP address ('' without one) */
  vtepIp: string;
  runner: CommandRunner;
  /** reads ovs-vswitchd's pid file (tests hand in their own) */
  vswitchdPid(): string;
}

/** Run ofproto/trace for the packet on this host and name the result. */
export async function traceOnHost(p: TracePacket, facts: TraceFacts & NamingFacts, opts: HostTraceOptions): Promise<HostTraceResult> {
  const flow = traceFlow(p, facts);
  const ctl = await controlPathOfPidFile(opts.ovsRunDir, opts.vswitchdPid);
  // one trk,new per recirculation the pipeline can take (conntrack once; ct(commit) does not recirculate)
  const args = ['--timeout=10', '-t', ctl, 'ofproto/trace', opts.bridge, flow, '--ct-next', 'trk,new', '--ct-next', 'trk,new'];
  const r = await opts.runner('ovs-appctl', args, { allowFailure: true, timeoutMs: 15_000 });
  if (r.code !== 0) {
    throw new NetloomError(
      'COMMAND_FAILED',
      `ofproto/trace on ${opts.host} failed: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`,
      {
        details: { flow },
      },
    );
  }
  const named = nameTrace(parseOfprotoTrace(r.stdout), facts);
  return { host: opts.host, flow, ...named, tunSrc: opts.vtepIp, raw: r.stdout };
}
