/**
 * One desired pipeline (flows, and the meters and groups they name) onto the switch, in the only
 * order OVS accepts: new and changed meters and groups first (a flow naming a missing one is
 * refused), then the flows in one bundle, then the groups and meters no flow names any more
 * (deleting one deletes the flows that name it).
 */
import type { GroupDesc, MeterConfig } from '../../ovs/openflow/messages';
import type { DesiredFlow } from './flow-key';
import type { GroupReconciler } from './group-reconciler';
import type { MeterReconciler } from './meter-reconciler';
import type { FlowReconciler } from './reconciler';

export async function applyToSwitch(
  r: { flows: FlowReconciler; meters: MeterReconciler; groups?: GroupReconciler },
  flows: readonly DesiredFlow[],
  meters: readonly MeterConfig[],
  groups: readonly GroupDesc[] = [],
): Promise<{ messages: number }> {
  const before = await r.meters.prepare(meters);
  const groupsBefore = r.groups ? await r.groups.prepare(groups) : { messages: 0 };
  const f = await r.flows.apply(flows);
  const groupsAfter = r.groups ? await r.groups.prune() : { messages: 0 };
  const after = await r.meters.prune();
  return { messages: before.messages + groupsBefore.messages + f.messages + groupsAfter.messages + after.messages };
}
