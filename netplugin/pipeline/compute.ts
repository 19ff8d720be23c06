/**
 * The whole pipeline of a host: every feature's flows, in a fixed order (features in pipeline
 * order, each feature iterating its objects sorted by id), so the same input always gives the
 * same list. Throws NetloomError when the input is inconsistent (see input.ts). Routed networks
 * (BGP mode) and their endpoints get no flow at all: the pipeline is computed from the rest of the
 * state (`ovsInput`, netplugin/routed/routed-networks.ts).
 */
import type { Feature } from '../reconcile/cookie';
import type { DesiredFlow } from '../reconcile/flow-key';
import type { PipelineInput } from './input';
import { pipelineView } from './input';
import { tableMissFlows } from './features/table-miss';
import { classifierFlows } from './features/classifier';
import { spoofguardFlows } from './features/spoofguard';
import { qosFlows } from './features/qos';
import { arpFlows } from './features/arp';
import { gatewayIcmpFlows } from './features/gateway-icmp';
import { groupFlows } from './features/groups';
import { serviceLbFlows } from './features/service-lb';
import { conntrackFlows } from './features/conntrack';
import { policyFlows } from './features/policy';
import { policyPickupFlows } from './features/policy-pickup';
import { l3RoutingFlows } from './features/l3-routing';
import { l2ForwardFlows } from './features/l2-forward';
import { hostGatewayFlows } from './features/host-gateway';
import { underlayFlows } from './features/underlay';
import { PIPELINE, TableName } from './tables';
import { ovsState } from '../routed/routed-networks';

export type PipelineFeature = (input: PipelineInput) => DesiredFlow[];

export interface FlowBuilder {
  /** the function's name without `Flows`, and the cookie id it writes where it has one of its own */
  name: string;
  compute: PipelineFeature;
  /** the tables it writes flows into */
  tables: readonly TableName[];
  /** the cookie features its flows carry (each table declares which it holds) */
  cookies: readonly Feature[];
}

/** The flow builders, in pipeline order. */
export const FLOW_BUILDERS: readonly FlowBuilder[] = [
  { name: 'tableMiss', compute: tableMissFlows, tables: PIPELINE.map((t) => t.name), cookies: ['tableMiss'] },
  { name: 'classifier', compute: classifierFlows, tables: ['classifier'], cookies: ['classifier', 'vlan', 'tunnel', 'spoofguard'] },
  { name: 'underlay', compute: underlayFlows, tables: ['classifier'], cookies: ['underlay'] },
  { name: 'spoofguard', compute: spoofguardFlows, tables: ['spoofguard'], cookies: ['spoofguard'] },
  { name: 'qos', compute: qosFlows, tables: ['egressQos'], cookies: ['qos'] },
  { name: 'arp', compute: arpFlows, tables: ['arp'], cookies: ['arp'] },
  { name: 'gatewayIcmp', compute: gatewayIcmpFlows, tables: ['gateway'], cookies: ['routing'] },
  { name: 'group', compute: groupFlows, tables: ['srcGroup', 'dstClassify'], cookies: ['policy'] },
  {
    name: 'serviceLb',
    compute: serviceLbFlows,
    tables: ['arp', 'serviceLB', 'serviceEndpoint', 'serviceDnat', 'l3Forward'],
    cookies: ['service'],
  },
  { name: 'conntrack', compute: conntrackFlows, tables: ['conntrack', 'ctState', 'ctCommit'], cookies: ['conntrack'] },
  { name: 'policy', compute: policyFlows, tables: ['egressPolicy', 'ingressPolicy'], cookies: ['policy'] },
  { name: 'policyPickup', compute: policyPickupFlows, tables: ['ctState'], cookies: ['policy'] },
  { name: 'l3Routing', compute: l3RoutingFlows, tables: ['l3Forward'], cookies: ['routing'] },
  { name: 'hostGateway', compute: hostGatewayFlows, tables: ['classifier', 'arp', 'l3Forward'], cookies: ['hostgw'] },
  { name: 'l2Forward', compute: l2ForwardFlows, tables: ['l2Forward'], cookies: ['l2Forward', 'tunnel', 'vlan'] },
];

const ovsInputs = new WeakMap<PipelineInput, PipelineInput>();

/**
 * The input without routed networks and what lives in them (the same object when nothing is
 * routed; memoised, so that the features' shared view is built once). Meters, groups and the
 * host network are computed from it too.
 */
export function ovsInput(input: PipelineInput): PipelineInput {
  let out = ovsInputs.get(input);
  if (!out) {
    const state = ovsState(input.state);
    out = state === input.state ? input : { state, local: input.local };
    ovsInputs.set(input, out);
  }
  return out;
}

export function computePipeline(input: PipelineInput): DesiredFlow[] {
  const ovs = ovsInput(input);
  pipelineView(ovs); // validate once, up front, before any feature runs
  return FLOW_BUILDERS.flatMap((f) => f.compute(ovs));
}
