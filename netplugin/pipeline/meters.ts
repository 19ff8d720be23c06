/**
 * The OpenFlow meters a host's pipeline uses, as plain data from the same input as its flows: per
 * plugged local endpoint whose group's netprofile has a bandwidth, one meter for what it sends
 * (egress, named by the egressQos table's flows) and one for what it receives (ingress, named by
 * its unicast flow in l2Forward). Rate in kbit/s, burst in kbit: the profile's burst is Contiv's,
 * in kbytes (netmaster sends it as burst_kb and checks that 8 times it fits 32 bits), so the meter
 * gets 8 times it. One drop band: the userspace datapath has no other band type. Meter ids come from the endpoint's ofport (egress 2p, ingress 2p+1): stable
 * while it stays plugged, unique on the bridge, and a flow and its meter always agree.
 */
import type { MeterConfig } from '../../ovs/openflow/messages';
import { OFPMF } from '../../ovs/openflow/messages';
import type { NetProfile } from '../state/host-state';
import { EndpointView, pipelineView, PipelineInput } from './input';

export interface DesiredMeter {
  meterId: number;
  kbps: number;
  burstKbit: number;
  /** the endpoint it serves and which way, for logs: `<endpoint id>:egress|ingress` */
  object: string;
}

/** KBPS with an explicit burst, and per-meter statistics (OVS counts the drops per band). */
export const METER_FLAGS = OFPMF.KBPS | OFPMF.BURST | OFPMF.STATS;

export function egressMeterId(ofport: number): number {
  return 2 * ofport;
}

export function ingressMeterId(ofport: number): number {
  return 2 * ofport + 1;
}

/** The profile of a plugged local endpoint whose traffic is metered (bandwidth > 0), else undefined. */
export function meteredProfile(e: EndpointView): NetProfile | undefined {
  return e.local && e.ofport !== undefined && e.profile && e.profile.bandwidthKbps > 0 ? e.profile : undefined;
}

/**
 * The meter burst of a profile in kbit: its own (kbytes, times 8), or when it gives none one
 * second of its rate (what OVS itself would pick). Always explicit, so the meter read back from
 * the switch equals the desired one.
 */
export function burstKbitOf(p: NetProfile): number {
  return p.burstKb > 0 ? p.burstKb * 8 : p.bandwidthKbps;
}

/** Every meter the input's endpoints need, sorted by id. */
export function desiredMeters(input: PipelineInput): DesiredMeter[] {
  const out: DesiredMeter[] = [];
  for (const e of pipelineView(input).endpoints) {
    const p = meteredProfile(e);
    if (!p || e.ofport === undefined) continue;
    const m = { kbps: p.bandwidthKbps, burstKbit: burstKbitOf(p) };
    out.push({ meterId: egressMeterId(e.ofport), ...m, object: `${e.ep.id}:egress` });
    out.push({ meterId: ingressMeterId(e.ofport), ...m, object: `${e.ep.id}:ingress` });
  }
  return out.sort((a, b) => a.meterId - b.meterId);
}

/** The meter as the switch holds it (and reports it in a meter-config reply). */
export function meterConfig(m: DesiredMeter): MeterConfig {
  return { flags: METER_FLAGS, meterId: m.meterId, bands: [{ type: 'drop', rate: m.kbps, burstSize: m.burstKbit }] };
}
