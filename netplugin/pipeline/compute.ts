/**
 * The whole pipeline of a host: every feature's flows, in a fixed order (features in pipeline
 * order, each feature iterating its objects sorted by id), so the same input always gives the
 * same list. Throws NetloomError when the input is inconsistent (see input.ts).
 */
import type { DesiredFlow } from '../reconcile/flow-key';
import type { PipelineInput } from './input';
import { pipelineView } from './input';
import { tableMissFlows } from './features/table-miss';
import { classifierFlows } from './features/classifier';
import { spoofguardFlows } from './features/spoofguard';
import { arpFlows } from './features/arp';
import { gatewayIcmpFlows } from './features/gateway-icmp';
import { groupFlows } from './features/groups';
import { conntrackFlows } from './features/conntrack';
import { l3RoutingFlows } from './features/l3-routing';
import { l2ForwardFlows } from './features/l2-forward';

export type PipelineFeature = (input: PipelineInput) => DesiredFlow[];

/** The features, in pipeline order. */
export const FEATURE_FUNCTIONS: readonly { name: string; compute: PipelineFeature }[] = [
  { name: 'table-miss', compute: tableMissFlows },
  { name: 'classifier', compute: classifierFlows },
  { name: 'spoofguard', compute: spoofguardFlows },
  { name: 'arp', compute: arpFlows },
  { name: 'gateway-icmp', compute: gatewayIcmpFlows },
  { name: 'groups', compute: groupFlows },
  { name: 'conntrack', compute: conntrackFlows },
  { name: 'l3-routing', compute: l3RoutingFlows },
  { name: 'l2-forward', compute: l2ForwardFlows },
];

export function computePipeline(input: PipelineInput): DesiredFlow[] {
  pipelineView(input); // validate once, up front, before any feature runs
  return FEATURE_FUNCTIONS.flatMap((f) => f.compute(input));
}
