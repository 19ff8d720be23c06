/**
 * Parses the text `ovs-appctl ofproto/trace` prints (Open vSwitch 3.x) into the flows a packet hit.
 * The text has one section per pass through the bridge: the first, then one per conntrack
 * recirculation (`--ct-next`), each headed by `Flow:` and ended by `Final flow:`/`Megaflow:`/
 * `Datapath actions:`. Inside a pass every hit flow is `<table>. <match>, priority P, cookie C`
 * followed by its actions indented below; a table with no flow prints `<table>. No match.`;
 * resubmits nest deeper but keep the same shape; a flow with cookie 0 prints no cookie. Lines
 * starting with `->` or `>>` are OVS's notes about the action above them. An output to a tunnel
 * (or a patch port) continues in another bridge (`bridge("br-phy")` after the output): those
 * steps are not the traced bridge's and are left out.
 *
 * Only the structure is read here (pure, no netloom meaning); host-trace.ts names the tables and
 * cookies. Text that is not a trace (an error message, an empty answer) throws DECODE_ERROR
 * quoting its first line, so a changed OVS output format fails loudly instead of tracing nothing.
 */
import { NetloomError } from '../../lib/errors';

export interface RawStep {
  table: number;
  /** the flow's match as OVS prints it ('' for a catch-all) */
  match: string;
  /** undefined for "No match." */
  priority: number | undefined;
  /** the cookie as printed (0x...); '' for "No match." */
  cookie: string;
  actions: string[];
  /** OVS's notes on the actions ("-> output to native tunnel", ">> ...") */
  notes: string[];
  /** 0 for the first pass, then one more per recirculation */
  pass: number;
}

export interface RawPass {
  /** the packet at the start of the pass (the `Flow:` line without its prefix) */
  flow: string;
  /** the packet at the end ('' when OVS says "unchanged") */
  finalFlow: string;
  datapathActions: string;
}

export interface RawTrace {
  passes: RawPass[];
  steps: RawStep[];
}

const STEP_RE = /^(\d+)\.\s(.*?),?\s*priority (\d+)(?:, cookie (0x[0-9a-fA-F]+))?$/;
const BRIDGE_RE = /^bridge\("([^"]+)"\)$/;
const NO_MATCH_RE = /^(\d+)\.\s+No match\.?$/;

function decodeError(text: string, why: string): NetloomError {
  const first =
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '(empty)';
  return new NetloomError('DECODE_ERROR', `not an ofproto/trace output (${why}): ${first.slice(0, 300)}`);
}

export function parseOfprotoTrace(text: string): RawTrace {
  const passes: RawPass[] = [];
  const steps: RawStep[] = [];
  let pass: RawPass | undefined;
  let step: RawStep | undefined;
  /** the bridge traced (the first one named), and whether the lines now are about it */
  let traced: string | undefined;
  let inTraced = true;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    if (t.startsWith('Flow: ')) {
      pass = { flow: t.slice('Flow: '.length), finalFlow: '', datapathActions: '' };
      passes.push(pass);
      step = undefined;
      inTraced = true;
      continue;
    }
    if (!pass) continue;
    if (t.startsWith('Final flow: ')) {
      const f = t.slice('Final flow: '.length);
      pass.finalFlow = f === 'unchanged' ? '' : f;
      step = undefined;
      continue;
    }
    if (t.startsWith('Datapath actions: ')) {
      pass.datapathActions = t.slice('Datapath actions: '.length);
      continue;
    }
    const br = BRIDGE_RE.exec(t);
    if (br) {
      traced ??= br[1];
      inTraced = br[1] === traced;
      step = undefined;
      continue;
    }
    if (t.startsWith('Megaflow: ') || /^-+$/.test(t) || /^=+$/.test(t) || t.startsWith('recirc(')) continue;
    if (!inTraced) continue;
    const m = STEP_RE.exec(t);
    if (m) {
      step = {
        table: Number(m[1]),
        match: (m[2] ?? '').replace(/,$/, ''),
        priority: Number(m[3]),
        cookie: (m[4] ?? '0x0').toLowerCase(),
        actions: [],
        notes: [],
        pass: passes.length - 1,
      };
      steps.push(step);
      continue;
    }
    const nm = NO_MATCH_RE.exec(t);
    if (nm) {
      step = { table: Number(nm[1]), match: '', priority: undefined, cookie: '', actions: [], notes: [], pass: passes.length - 1 };
      steps.push(step);
      continue;
    }
    // the thaw of a recirculation, not an action of a flow
    if (t === 'thaw' || t.startsWith('Resuming from table')) continue;
    if (!step) continue;
    if (t.startsWith('->') || t.startsWith('>>')) step.notes.push(t.replace(/^(->|>>)\s*/, ''));
    else step.actions.push(t);
  }
  if (passes.length === 0) throw decodeError(text, 'no "Flow:" line');
  if (passes.some((p) => p.datapathActions === '')) throw decodeError(text, 'a pass without "Datapath actions:"');
  if (steps.length === 0) throw decodeError(text, 'no flow was hit');
  return { passes, steps };
}

/** `k=v,k2=v2,flag` (a Flow: line) as a map; bare words map to ''. */
export function flowFields(flow: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of flow.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) out.set(part.trim(), '');
    else out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}
