/**
 * Table 0, one-bridge hosts only (`--one-bridge`: the uplink NIC is a port of the integration
 * bridge itself, and the VTEP address lives on the bridge's local port; docs/netplugin.md). The
 * host's own underlay traffic then crosses this bridge instead of a NORMAL physical bridge:
 * untagged frames from the uplink go to the local port (ARP for the VTEP, tunnel packets, which
 * OVS terminates on their way there: userspace tunnel pop happens on output to the port that holds
 * the VTEP address), and everything the host's kernel sends from the local port (its ARP, the
 * encapsulated tunnel packets, whose route is the local port) goes out of the uplink. Tagged
 * frames stay the VLAN classifier's; nothing else reaches the local port.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { OFPP } from '../../../ovs/openflow/messages';
import type { PipelineInput } from '../input';
import { act, apply, field, flow, match } from '../flow-builder';

export const UNDERLAY_PRIORITY = 100;
/** vlan_vid 0 in OpenFlow 1.3: the frame has no 802.1Q tag */
const OFPVID_NONE = 0;

export function underlayFlows(input: PipelineInput): DesiredFlow[] {
  const { uplink, oneBridge } = input.local.bridge;
  if (!oneBridge || uplink === undefined) return [];
  const base = { table: 'classifier' as const, priority: UNDERLAY_PRIORITY, feature: 'underlay' as const };
  return [
    flow({
      ...base,
      match: [match.inPort(uplink), field('vlan_vid', OFPVID_NONE)],
      instructions: [apply(act.output(OFPP.LOCAL))],
      object: 'underlay:in',
    }),
    flow({ ...base, match: [match.inPort(OFPP.LOCAL)], instructions: [apply(act.output(uplink))], object: 'underlay:out' }),
  ];
}
