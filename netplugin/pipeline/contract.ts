/**
 * The pipeline's tables as contracts: every flow must sit in a declared table, match only the
 * fields that table declares, continue only in the tables it declares (goto_table, ct(table=),
 * resubmit) and carry a cookie feature the table holds (or be the table's miss flow, which every
 * table has under `tableMiss`). Pure functions returning the violations, so the tests can run
 * them over every computed pipeline and show each rule rejecting a bad flow. A flow builder is
 * held, in the same way, to the tables and cookies it declares (FLOW_BUILDERS).
 */
import type { Action } from '../../ovs/openflow/messages';
import { NO_TABLE } from '../../ovs/openflow/messages';
import type { DesiredFlow } from '../reconcile/flow-key';
import type { FlowBuilder } from './compute';
import { PIPELINE, TableSpec } from './tables';

export type ContractRule = 'declared table' | 'match' | 'next' | 'cookie' | 'builder';

export interface ContractViolation {
  /** the table's name, or `#<id>` for a table that is not declared */
  table: string;
  /** the flow, as `<cookie feature>/<object> priority <n>` */
  flow: string;
  rule: ContractRule;
  detail: string;
}

/** The flow's name in violations: its cookie feature, the object it serves and its priority. */
export function flowName(f: DesiredFlow): string {
  return `${f.feature}/${f.object ?? ''} priority ${f.priority}`;
}

/** Whether `f` is a table-miss flow: priority 0, empty match. */
export function isMissFlow(f: DesiredFlow): boolean {
  return f.priority === 0 && f.match.length === 0;
}

/** The tables a flow's instructions continue in: goto_table, ct recirculation, resubmit. */
export function continuationTables(f: DesiredFlow): number[] {
  const out: number[] = [];
  const fromActions = (actions: readonly Action[]): void => {
    for (const a of actions) {
      if (a.type === 'ct' && a.recircTable !== NO_TABLE) out.push(a.recircTable);
      if (a.type === 'resubmit' && a.table !== NO_TABLE) out.push(a.table);
    }
  };
  for (const i of f.instructions) {
    if (i.type === 'goto_table') out.push(i.tableId);
    else if (i.type === 'apply_actions' || i.type === 'write_actions') fromActions(i.actions);
  }
  return out;
}

/** Every way `flows` break the contracts of `tables` (none: they keep them). */
export function checkFlowsAgainstTables(flows: readonly DesiredFlow[], tables: readonly TableSpec[] = PIPELINE): ContractViolation[] {
  const byId = new Map(tables.map((t) => [t.id, t]));
  const out: ContractViolation[] = [];
  for (const f of flows) {
    const t = byId.get(f.table);
    const v = (rule: ContractRule, detail: string): void => {
      out.push({ table: t ? t.name : `#${f.table}`, flow: flowName(f), rule, detail });
    };
    if (!t) {
      v('declared table', `table ${f.table} is not declared`);
      continue;
    }
    for (const m of f.match) {
      if (m.field === 'raw') v('match', `matches a raw field (class ${m.oxmClass}, field ${m.oxmField})`);
      else if (!t.match.includes(m.field)) v('match', `matches ${m.field}, not among ${t.name}'s fields [${t.match.join(', ')}]`);
    }
    for (const id of continuationTables(f)) {
      const next = byId.get(id);
      if (!next || !t.next.includes(next.name))
        v('next', `continues in ${next ? next.name : `undeclared table ${id}`}, not among ${t.name}'s next tables [${t.next.join(', ')}]`);
    }
    const cookieOk = f.feature === 'tableMiss' ? isMissFlow(f) : t.cookies.includes(f.feature);
    if (!cookieOk)
      v(
        'cookie',
        f.feature === 'tableMiss'
          ? 'carries the table-miss cookie but is not a miss flow (priority 0, empty match)'
          : `carries cookie feature ${f.feature}, not among ${t.name}'s [${t.cookies.join(', ')}]`,
      );
  }
  return out;
}

/** Flows of `builder` outside the tables or cookie features it declares. */
export function checkBuilderFlows(
  builder: FlowBuilder,
  flows: readonly DesiredFlow[],
  tables: readonly TableSpec[] = PIPELINE,
): ContractViolation[] {
  const byId = new Map(tables.map((t) => [t.id, t]));
  const out: ContractViolation[] = [];
  for (const f of flows) {
    const t = byId.get(f.table);
    const name = t ? t.name : `#${f.table}`;
    if (!t || !builder.tables.includes(t.name))
      out.push({
        table: name,
        flow: flowName(f),
        rule: 'builder',
        detail: `builder ${builder.name} declares tables [${builder.tables.join(', ')}]`,
      });
    if (!builder.cookies.includes(f.feature))
      out.push({
        table: name,
        flow: flowName(f),
        rule: 'builder',
        detail: `builder ${builder.name} declares cookies [${builder.cookies.join(', ')}]`,
      });
  }
  return out;
}

/**
 * What is wrong with the declarations themselves: names and ids used twice, ids out of order, a
 * next table that is not declared or does not come later (OpenFlow's goto_table only goes
 * forward), a miss that goes somewhere not declared as next.
 */
export function checkTableDeclarations(tables: readonly TableSpec[] = PIPELINE): string[] {
  const out: string[] = [];
  const byName = new Map(tables.map((t) => [t.name, t]));
  if (byName.size !== tables.length) out.push('a table name is declared twice');
  tables.forEach((t, i) => {
    const prev = tables[i - 1];
    if (prev && prev.id >= t.id) out.push(`${t.name}: id ${t.id} does not come after ${prev.name}'s ${prev.id}`);
    for (const n of t.next) {
      const next = byName.get(n);
      if (!next) out.push(`${t.name}: next table ${n} is not declared`);
      else if (next.id <= t.id) out.push(`${t.name}: next table ${n} (${next.id}) does not come later`);
    }
    if (t.miss.kind === 'goto' && !t.next.includes(t.miss.table))
      out.push(`${t.name}: the miss goes to ${t.miss.table}, not a declared next table`);
    if (new Set(t.match).size !== t.match.length) out.push(`${t.name}: a match field is declared twice`);
  });
  return out;
}
