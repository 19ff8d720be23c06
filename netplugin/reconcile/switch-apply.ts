/**
 * One desired pipeline (flows and the meters they name) onto the switch, in the only order OVS
 * accepts: new and changed meters first (a flow naming a missing meter is refused), then the flows
 * in one bundle, then the meters no flow names any more (deleting a meter deletes its flows).
 */
import type { MeterConfig } from '../../ovs/openflow/messages';
import type { DesiredFlow } from './flow-key';
import type { MeterReconciler } from './meter-reconciler';
import type { FlowReconciler } from './reconciler';

export async function applyToSwitch(
  r: { flows: FlowReconciler; meters: MeterReconciler },
  flows: readonly DesiredFlow[],
  meters: readonly MeterConfig[],
): Promise<{ messages: number }> {
  const before = await r.meters.prepare(meters);
  const f = await r.flows.apply(flows);
  const after = await r.meters.prune();
  return { messages: before.messages + f.messages + after.messages };
}
