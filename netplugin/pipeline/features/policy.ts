/**
 * Tables 60 and 70: the compiled policy (lib/policy) rendered as OpenFlow, egress on the
 * source's host (self: the endpoint's in_port), ingress on the destination's host (self: its
 * address within its tenant, whatever port the packet came in by). A rule is the conjunction of
 * up to three clauses (self endpoints, peer prefixes, services), so a rule between groups of
 * |A| and |B| endpoints over P ports costs |A| + |B| + P + 1 flows, not |A| x |B| x P; a rule
 * whose cross product is no bigger than that is written as plain flows. Precedence is the flow
 * priority: POLICY_BASE + 2 x rule priority, plus one for deny, so the highest rule priority
 * decides and deny wins at equal priority; flows of equal priority therefore always decide
 * alike, which is what lets rules share clause flows (one flow, several conjunction actions).
 * An allow continues; a deny sets the denied flag and goes to ctCommit, which drops it (and
 * marks an established connection denied). Isolation (Kubernetes) is a deny per endpoint below
 * every rule. The decision flow of a rule (its conj_id flow, or its plain flows) carries the
 * rule id as cookie object: per-rule counters and traces name rules by it.
 */
import type { Action, Instruction, KnownOxm } from '../../../ovs/openflow/messages';
import { NetloomError } from '../../../lib/errors';
import { objectHash } from '../../reconcile/cookie';
import { canonicalMatch, type DesiredFlow } from '../../reconcile/flow-key';
import { compilePolicy } from '../../../lib/policy/compile';
import type { AddressSet, DirectionPolicy, EndpointPolicy, PolicyRule, Service } from '../../../lib/policy/model';
import { canDeny, normalProtocol } from '../../../lib/policy/evaluate';
import { formatPrefix, isEverything, portMasks, setPrefixes } from '../../../lib/policy/ranges';
import { EndpointView, pipelineView, PipelineInput } from '../input';
import { act, apply, ETH_TYPE, field, flow, goto, IP_PROTO, match, reg } from '../flow-builder';
import { FLAG, table, TableName } from '../tables';

export const POLICY_BASE_PRIORITY = 1000;
export const ISOLATION_PRIORITY = 100;
/** rule priorities a flow priority can carry (Contiv's are 1-100) */
export const MAX_RULE_PRIORITY = 30_000;

type Direction = 'egress' | 'ingress';
const TABLE: Record<Direction, TableName> = { egress: 'egressPolicy', ingress: 'ingressPolicy' };
const ALLOW_NEXT: Record<Direction, TableName> = { egress: 'ingressPolicy', ingress: 'ctCommit' };

/** The flow priority of a rule. */
export function rulePriority(r: Pick<PolicyRule, 'priority' | 'action'>): number {
  if (!Number.isInteger(r.priority) || r.priority < 0 || r.priority > MAX_RULE_PRIORITY)
    throw new NetloomError('INVALID_ARGUMENT', `policy rule priority ${r.priority} is outside 0..${MAX_RULE_PRIORITY}`, {
      field: 'priority',
    });
  return POLICY_BASE_PRIORITY + r.priority * 2 + (r.action === 'deny' ? 1 : 0);
}

const DECISIONS: Record<Direction, Record<'allow' | 'deny', Instruction[]>> = {
  egress: { allow: [goto(ALLOW_NEXT.egress)], deny: [apply(act.setFlag(FLAG.denied)), goto('ctCommit')] },
  ingress: { allow: [goto(ALLOW_NEXT.ingress)], deny: [apply(act.setFlag(FLAG.denied)), goto('ctCommit')] },
};

/** A rule's decision (the same instruction objects for every rule, so their text for the generation is made once). */
function decision(dir: Direction, action: 'allow' | 'deny'): Instruction[] {
  return DECISIONS[dir][action];
}

const instructionTexts = new WeakMap<Instruction, string>();

/** The instructions as text for the generation digest (conjunction lists written out directly: they are most flows). */
function instructionsText(list: readonly Instruction[]): string {
  return list
    .map((i) => {
      let t = instructionTexts.get(i);
      if (t === undefined) {
        t =
          i.type === 'apply_actions' && i.actions.every((a) => a.type === 'conjunction')
            ? `conj ${i.actions.map((a) => (a.type === 'conjunction' ? `${a.id}/${a.clause}/${a.nClauses}` : '')).join(',')}`
            : JSON.stringify(i, bigintSafe);
        instructionTexts.set(i, t);
      }
      return t;
    })
    .join(' ');
}

function selfMatch(dir: Direction, e: EndpointView): KnownOxm[] {
  return dir === 'egress'
    ? [match.inPort(e.ofport!)]
    : [reg('tenant', e.net.tenant.vrfId), match.ethType(ETH_TYPE.IPV4), field('ipv4_dst', e.ep.ip)];
}

function netmask(len: number): string {
  const m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join('.');
}

/** The peer clause's matches; undefined: any peer (no clause). */
function peerMatches(set: FlowSet, dir: Direction, r: PolicyRule): KnownOxm[][] | undefined {
  const prefixes = setPrefixes(r.peers);
  if (isEverything(prefixes)) return undefined;
  const f = dir === 'egress' ? 'ipv4_dst' : 'ipv4_src';
  return prefixes.map((p) => {
    const text = formatPrefix(p);
    return set.memo(`${f} ${text}`, () => {
      const addr = text.split('/')[0]!;
      return [match.ethType(ETH_TYPE.IPV4), p.len === 32 ? field(f, addr) : field(f, addr, netmask(p.len))];
    });
  });
}

function protocolNumber(s: Service): number {
  const p = normalProtocol(s.protocol!);
  return p === 'tcp' ? IP_PROTO.TCP : p === 'udp' ? IP_PROTO.UDP : p === 'icmp' ? IP_PROTO.ICMP : p;
}

/** The destination port field of the protocols whose rules name ports (SCTP: Kubernetes). */
const PORT_FIELD: Record<number, 'tcp_dst' | 'udp_dst' | 'sctp_dst' | undefined> = {
  [IP_PROTO.TCP]: 'tcp_dst',
  [IP_PROTO.UDP]: 'udp_dst',
  [IP_PROTO.SCTP]: 'sctp_dst',
};

/** The service clause's matches; undefined: every service (no clause). */
function serviceMatches(set: FlowSet, r: PolicyRule): KnownOxm[][] | undefined {
  if (r.services.length === 0 || r.services.some((s) => s.protocol === undefined)) return undefined;
  const out: KnownOxm[][] = [];
  for (const s of r.services) {
    const proto = protocolNumber(s);
    const base = set.memo(`proto ${proto}`, () => [match.ethType(ETH_TYPE.IPV4), field('ip_proto', proto)]);
    const portField = PORT_FIELD[proto];
    // ports only mean something for tcp, udp and sctp (netmaster refuses them with other protocols)
    if (!portField || !s.ports || s.ports.length === 0) {
      out.push(base);
      continue;
    }
    for (const range of s.ports)
      for (const pm of portMasks(range))
        out.push(
          set.memo(`${portField} ${pm.value}/${pm.mask}`, () => [
            ...base,
            pm.mask === 0xffff ? field(portField, pm.value) : field(portField, pm.value, pm.mask),
          ]),
        );
  }
  return out;
}

/** The conjunction of two matches (fields they share must agree). */
function merge(a: KnownOxm[], b: KnownOxm[]): KnownOxm[] {
  const out = [...a];
  for (const m of b) {
    const same = out.find((x) => x.field === m.field);
    if (!same) out.push(m);
    // plain values compare directly (the common case: eth_type in both clauses); JSON for Buffers and the like
    else if (!(same.value === m.value && same.mask === m.mask) && JSON.stringify(same, bigintSafe) !== JSON.stringify(m, bigintSafe))
      throw new Error(`policy: cannot combine two matches on ${m.field}`);
  }
  return out;
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}

function crossProduct(clauses: KnownOxm[][][]): KnownOxm[][] {
  return clauses.reduce<KnownOxm[][]>((acc, c) => acc.flatMap((a) => c.map((m) => merge(a, m))), [[]]);
}

interface Slot {
  flow: DesiredFlow;
  /** canonicalMatch of the flow's match */
  canon: string;
  /** conjunction actions collected at this (table, priority, match); none for a plain flow */
  conj: Action[];
}

/**
 * The flows being built, by switch identity, so rules share clause flows and plain flows win over
 * clauses. Identity is looked up by (table, priority) and then the match's canonical form, kept
 * per match object; clause matches are built once per render (endpoints, peer sets and services
 * memoised), so 1,000 rules over the same groups do not rebuild and re-key the same endpoint and
 * peer matches (that was most of a large policy's compile time).
 */
class FlowSet {
  /** table * 65536 + priority -> canonical match -> slot */
  private readonly byPlace = new Map<number, Map<string, Slot>>();
  /** slots in the order they were first made (the flows' order) */
  private readonly order: Slot[] = [];
  private readonly conjIds = new Set<number>();
  private readonly canon = new WeakMap<KnownOxm[], string>();
  private readonly selves = { egress: new Map<EndpointView, KnownOxm[]>(), ingress: new Map<EndpointView, KnownOxm[]>() };
  private readonly peers = {
    egress: new WeakMap<AddressSet, KnownOxm[][] | undefined>(),
    ingress: new WeakMap<AddressSet, KnownOxm[][] | undefined>(),
  };
  private readonly matches = new Map<string, KnownOxm[]>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;

  /** A number for an object, the same every time it is asked (names shared clause lists in keys). */
  idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(o, id);
    }
    return id;
  }

  /** The match made by `make` for `key`, the same object every time (so its canonical form is computed once). */
  memo(key: string, make: () => KnownOxm[]): KnownOxm[] {
    let m = this.matches.get(key);
    if (!m) {
      m = make();
      this.matches.set(key, m);
    }
    return m;
  }

  selfMatch(dir: Direction, e: EndpointView): KnownOxm[] {
    let m = this.selves[dir].get(e);
    if (!m) {
      m = selfMatch(dir, e);
      this.selves[dir].set(e, m);
    }
    return m;
  }

  /** peerMatches, once per address set object (the compiler shares one per peer group). */
  peerMatches(dir: Direction, r: PolicyRule): KnownOxm[][] | undefined {
    const cache = this.peers[dir];
    if (cache.has(r.peers)) return cache.get(r.peers);
    const m = peerMatches(this, dir, r);
    cache.set(r.peers, m);
    return m;
  }

  private slotAt(table: number, priority: number, m: KnownOxm[]): { place: Map<string, Slot>; canon: string; slot: Slot | undefined } {
    let canon = this.canon.get(m);
    if (canon === undefined) {
      canon = canonicalMatch(m);
      this.canon.set(m, canon);
    }
    const at = table * 65536 + priority;
    let place = this.byPlace.get(at);
    if (!place) {
      place = new Map();
      this.byPlace.set(at, place);
    }
    return { place, canon, slot: place.get(canon) };
  }

  plain(f: DesiredFlow): void {
    const { place, canon, slot } = this.slotAt(f.table, f.priority, f.match as KnownOxm[]);
    // equal priority decides alike: the first rule (by id) keeps the flow; a plain flow covers a clause's traffic
    if (!slot) {
      const s: Slot = { flow: f, canon, conj: [] };
      place.set(canon, s);
      this.order.push(s);
    } else if (slot.conj.length > 0) {
      slot.flow = f;
      slot.conj = [];
    }
  }

  clause(dir: Direction, priority: number, m: KnownOxm[], a: Action): void {
    const t = table(TABLE[dir]);
    const { place, canon, slot } = this.slotAt(t, priority, m);
    if (!slot) {
      const f = flow({ table: TABLE[dir], priority, match: m, instructions: [], feature: 'policy', object: `clause:${dir}` });
      const s: Slot = { flow: f, canon, conj: [a] };
      place.set(canon, s);
      this.order.push(s);
    } else if (slot.conj.length > 0) slot.conj.push(a);
  }

  /** A conjunction id for `name`, stable across recomputations (a hash, probed past collisions). */
  conjId(name: string): number {
    let id = objectHash(name) || 1;
    while (this.conjIds.has(id)) id = (id + 1) >>> 0 || 1;
    this.conjIds.add(id);
    return id;
  }

  /** The flows, each with its flowKey. */
  flows(): Array<[string, DesiredFlow]> {
    return this.order.map((s) => {
      const k = `${s.flow.table}/${s.flow.priority}/${s.canon}`;
      if (s.conj.length === 0) return [k, s.flow];
      const conj = [...s.conj].sort((a, b) => (a.type === 'conjunction' && b.type === 'conjunction' ? a.id - b.id : 0));
      return [k, { ...s.flow, instructions: [apply(...conj)] }];
    });
  }
}

/** A rule's clauses, worked out before any flow is written. */
interface PlannedRule {
  rule: PolicyRule;
  variant: number;
  clauses: KnownOxm[][][];
  /** flows as plain flows: the product of the clause sizes */
  product: number;
  /** sizes of the endpoint and peer clauses (shared by the rules of `share`) and of the services clause (0: none) */
  shared: number;
  services: number;
  /** rules that share their endpoint and peer clauses (same priority, action, endpoints and peer set) */
  share: string;
}

function planRule(set: FlowSet, dir: Direction, rule: PolicyRule, selves: EndpointView[], variant: number): PlannedRule | undefined {
  const peers = set.peerMatches(dir, rule);
  if (peers && peers.length === 0) return undefined; // a peer set with no address matches nothing
  const services = serviceMatches(set, rule);
  const clauses = [selves.map((e) => set.selfMatch(dir, e)), ...(peers ? [peers] : []), ...(services ? [services] : [])];
  const product = clauses.reduce((a, c) => a * c.length, 1);
  const share = `${rulePriority(rule)} ${rule.action} ${peers ? set.idOf(peers) : 'any'} ${selves.map((e) => e.ep.id).join(',')}`;
  return { rule, variant, clauses, product, share, shared: selves.length + (peers?.length ?? 0), services: services?.length ?? 0 };
}

/**
 * Plain flows or a conjunction, per group of rules that share their endpoint and peer clauses
 * (Contiv's rules name one port each, so a rule over P ports arrives as P such rules): plain when
 * the group's plain flows are no more than its conjunctions would cost, the shared endpoint and
 * peer flows counted once. Judged rule by rule, ten one-port rules of one endpoint and 50 peers
 * were 500 plain flows (each rule's 50 <= 53) where the shared conjunction is 71.
 */
function plainGroups(planned: readonly PlannedRule[]): Set<string> {
  const cost = new Map<string, { plain: number; conj: number }>();
  for (const p of planned) {
    if (p.clauses.length === 1) continue;
    let c = cost.get(p.share);
    if (!c) {
      c = { plain: 0, conj: p.shared };
      cost.set(p.share, c);
    }
    c.plain += p.product;
    // its own services clause and its conj_id flow
    c.conj += p.services + 1;
  }
  return new Set([...cost].filter(([, c]) => c.plain <= c.conj).map(([k]) => k));
}

function addRule(set: FlowSet, dir: Direction, p: PlannedRule, plain: boolean): void {
  const { rule, clauses } = p;
  const priority = rulePriority(rule);
  const instructions = decision(dir, rule.action);
  if (clauses.length === 1 || plain) {
    for (const m of crossProduct(clauses))
      set.plain(flow({ table: TABLE[dir], priority, match: m, instructions, feature: 'policy', object: rule.id }));
    return;
  }
  const id = set.conjId(`${dir}:${rule.id}#${p.variant}`);
  clauses.forEach((c, i) => {
    for (const m of c) set.clause(dir, priority, m, { type: 'conjunction', id, clause: i, nClauses: clauses.length });
  });
  set.plain(flow({ table: TABLE[dir], priority, match: [field('conj_id', id)], instructions, feature: 'policy', object: rule.id }));
}

interface PolicyRender {
  flows: DesiredFlow[];
  /** a 31-bit digest of the policy flows, never 0: connections are committed with it in ct_mark */
  generation: number;
  /** the local endpoints whose policy can deny (a deny rule or isolation, either direction), by endpoint id */
  denyCapable: EndpointView[];
}

function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function render(input: PipelineInput): PolicyRender {
  const view = pipelineView(input);
  const compiled = compilePolicy(input.state, input.local.hostName);
  const byId = new Map(view.endpoints.map((e) => [e.ep.id, e]));
  const set = new FlowSet();
  const denyCapable = compiled
    .filter((p) => canDeny(p.egress) || canDeny(p.ingress))
    .flatMap((p) => byId.get(p.endpoint) ?? [])
    .sort((a, b) => (a.ep.id < b.ep.id ? -1 : a.ep.id > b.ep.id ? 1 : 0));
  for (const dir of ['egress', 'ingress'] as const) {
    // endpoints grouped by the (shared) compiled rule object
    const selvesOf = new Map<PolicyRule, EndpointView[]>();
    const isolated: EndpointView[] = [];
    for (const p of compiled) {
      const e = byId.get(p.endpoint);
      if (!e || (dir === 'egress' && e.ofport === undefined)) continue;
      const d: DirectionPolicy = (p as EndpointPolicy)[dir];
      if (d.isolated) isolated.push(e);
      for (const r of d.rules) {
        const list = selvesOf.get(r);
        if (list) list.push(e);
        else selvesOf.set(r, [e]);
      }
    }
    const rules = [...selvesOf.keys()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const variants = new Map<string, number>();
    const planned: PlannedRule[] = [];
    for (const r of rules) {
      const v = variants.get(r.id) ?? 0;
      variants.set(r.id, v + 1);
      const p = planRule(set, dir, r, selvesOf.get(r)!, v);
      if (p) planned.push(p);
    }
    const plain = plainGroups(planned);
    for (const p of planned) addRule(set, dir, p, plain.has(p.share));
    for (const e of isolated)
      set.plain(
        flow({
          table: TABLE[dir],
          priority: ISOLATION_PRIORITY,
          match: selfMatch(dir, e),
          instructions: decision(dir, 'deny'),
          feature: 'policy',
          object: `isolation:${e.ep.id}`,
        }),
      );
  }
  const keyed = set.flows();
  let h = 0x811c9dc5;
  for (const [k, f] of keyed) h = fnv(h, `${k} ${instructionsText(f.instructions)}\n`);
  return {
    flows: keyed.map(([, f]) => f),
    generation: h & 0x7fffffff || 1,
    denyCapable,
  };
}

const rendered = new WeakMap<PipelineInput, PolicyRender>();

function renderOnce(input: PipelineInput): PolicyRender {
  let r = rendered.get(input);
  if (!r) {
    r = render(input);
    rendered.set(input, r);
  }
  return r;
}

/** The local endpoints whose policy can deny (features/policy-pickup.ts), sorted by endpoint id. */
export function denyCapableEndpoints(input: PipelineInput): readonly EndpointView[] {
  return renderOnce(input).denyCapable;
}

export function policyFlows(input: PipelineInput): DesiredFlow[] {
  return renderOnce(input).flows;
}

/** The policy generation connections are committed with (ctState lets the current one skip policy). */
export function policyGeneration(input: PipelineInput): number {
  return renderOnce(input).generation;
}
