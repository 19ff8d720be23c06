/**
 * Table-miss flows, straight from the PIPELINE data: priority 0, empty match, then either drop
 * (no instructions) or goto the table the stage hands over to. Every table, reserved ones included,
 * gets its miss flow, so a packet's fate never depends on OVS's own default.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import type { PipelineInput } from '../input';
import { flow, goto } from '../flow-builder';
import { PIPELINE } from '../tables';

export const MISS_PRIORITY = 0;

export function tableMissFlows(_input: PipelineInput): DesiredFlow[] {
  return PIPELINE.map((t) =>
    flow({
      table: t.name,
      priority: MISS_PRIORITY,
      match: [],
      instructions: t.miss.kind === 'drop' ? [] : [goto(t.miss.table)],
      feature: 'tableMiss',
      object: `miss:${t.name}`,
    }),
  );
}
