/**
 * The tables' contracts (netplugin/pipeline/contract.ts): the declarations are consistent, and the
 * checker rejects a flow that matches an undeclared field, continues in an undeclared table or
 * uses a cookie feature of another table. That every computed flow keeps the contracts is checked
 * by every pipeline test (checked-pipeline.ts).
 */
import { strict as assert } from 'node:assert';
import { FLOW_BUILDERS } from '../../../netplugin/pipeline/compute';
import { checkBuilderFlows, checkFlowsAgainstTables, checkTableDeclarations } from '../../../netplugin/pipeline/contract';
import { act, apply, ETH_TYPE, field, flow, goto, match, reg } from '../../../netplugin/pipeline/flow-builder';
import { PIPELINE, TableSpec, table } from '../../../netplugin/pipeline/tables';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import { hostInput } from './fixture';
import { checkedPipeline } from './checked-pipeline';

/** A flow that keeps the srcGroup table's contract. */
function srcGroupFlow(over: Partial<DesiredFlow> = {}): DesiredFlow {
  return {
    ...flow({
      table: 'srcGroup',
      priority: 100,
      match: [reg('tenant', 1), match.ethType(ETH_TYPE.IPV4), field('ipv4_src', '10.1.1.10')],
      instructions: [apply(act.loadReg('srcGroup', 7)), goto('dstClassify')],
      feature: 'policy',
      object: 'ep1',
    }),
    ...over,
  };
}

describe('pipeline table contracts', () => {
  it('the declarations are consistent: ids in order, next tables declared and later, the miss among them', () => {
    assert.deepEqual(checkTableDeclarations(), []);
  });

  it('finds a declaration whose miss or next table is wrong', () => {
    const bad: TableSpec[] = PIPELINE.map((t) =>
      t.name === 'arp' ? { ...t, next: ['classifier'] } : t.name === 'gateway' ? { ...t, next: ['nowhere' as TableSpec['name']] } : t,
    );
    assert.deepEqual(checkTableDeclarations(bad), [
      'arp: next table classifier (0) does not come later',
      'arp: the miss goes to gateway, not a declared next table',
      'gateway: next table nowhere is not declared',
      'gateway: the miss goes to srcGroup, not a declared next table',
    ]);
  });

  it('accepts a flow that keeps its table contract', () => {
    assert.deepEqual(checkFlowsAgainstTables([srcGroupFlow()]), []);
  });

  it('rejects a flow that matches a field its table does not declare, naming table, flow and rule', () => {
    const f = srcGroupFlow({ match: [reg('tenant', 1), match.ethType(ETH_TYPE.IPV4), field('tcp_dst', 80)] });
    assert.deepEqual(checkFlowsAgainstTables([f]), [
      {
        table: 'srcGroup',
        flow: 'policy/ep1 priority 100',
        rule: 'match',
        detail: "matches tcp_dst, not among srcGroup's fields [reg3, eth_type, ipv4_src]",
      },
    ]);
  });

  it('rejects a flow that continues in a table its table does not declare (goto, ct recirculation, resubmit, unknown id)', () => {
    const viaGoto = srcGroupFlow({ instructions: [goto('l2Forward')] });
    const viaCt = srcGroupFlow({ instructions: [apply(act.ct(1, { then: 'ctState' }))] });
    const viaResubmit = srcGroupFlow({ instructions: [apply({ type: 'resubmit', inPort: 0xfffffff8, table: table('arp') })] });
    const unknown = srcGroupFlow({ instructions: [{ type: 'goto_table', tableId: 200 }] });
    const v = checkFlowsAgainstTables([viaGoto, viaCt, viaResubmit, unknown]);
    assert.deepEqual(
      v.map((x) => [x.table, x.rule, x.detail.split(',')[0]]),
      [
        ['srcGroup', 'next', 'continues in l2Forward'],
        ['srcGroup', 'next', 'continues in ctState'],
        ['srcGroup', 'next', 'continues in arp'],
        ['srcGroup', 'next', 'continues in undeclared table 200'],
      ],
    );
  });

  it("rejects a flow that carries another table's cookie feature, or the miss cookie on a flow that is not a miss", () => {
    const v = checkFlowsAgainstTables([srcGroupFlow({ feature: 'arp' }), srcGroupFlow({ feature: 'tableMiss' })]);
    assert.deepEqual(
      v.map((x) => [x.table, x.flow, x.rule, x.detail]),
      [
        ['srcGroup', 'arp/ep1 priority 100', 'cookie', "carries cookie feature arp, not among srcGroup's [policy]"],
        [
          'srcGroup',
          'tableMiss/ep1 priority 100',
          'cookie',
          'carries the table-miss cookie but is not a miss flow (priority 0, empty match)',
        ],
      ],
    );
  });

  it('rejects a flow in a table that is not declared', () => {
    assert.deepEqual(
      checkFlowsAgainstTables([srcGroupFlow({ table: 33 })]).map((x) => [x.table, x.rule]),
      [['#33', 'declared table']],
    );
  });

  it('holds a builder to its declared tables and cookies', () => {
    const arp = FLOW_BUILDERS.find((b) => b.name === 'arp')!;
    assert.deepEqual(
      checkBuilderFlows(arp, [srcGroupFlow()]).map((x) => x.detail),
      ['builder arp declares tables [arp]', 'builder arp declares cookies [arp]'],
    );
  });

  it('every table is written by some builder, and every builder names only declared tables', () => {
    const written = new Set(FLOW_BUILDERS.filter((b) => b.name !== 'tableMiss').flatMap((b) => b.tables));
    for (const t of PIPELINE) assert.equal(written.has(t.name), !t.reserved, `${t.name}: written by a builder iff not reserved`);
  });

  it('the computed pipeline of the fixture keeps every contract (as in every pipeline test)', () => {
    assert.ok(checkedPipeline(hostInput('h1')).length > 0);
  });
});
