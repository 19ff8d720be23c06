/**
 * Userspace TSO on the netdev datapath (OVS 3.1, docs/benchmarks.md "Userspace TSO"): the
 * `other_config:userspace-tso-enable` setting, whether the running ovs-vswitchd has it, and which
 * containers may then keep their tx checksum offload.
 *
 * What OVS 3.1 does, read in its source and measured here: ovs-vswitchd reads the setting at every
 * reconfiguration but only ports opened after it was turned on get offloads (the taps with a
 * virtio-net header, veths through AF_PACKET with one), so it takes effect for the whole switch
 * only at the next ovs-vswitchd start. A TCP segment with offload flags (TSO or just a partial
 * checksum) is DROPPED at a tunnel port ("Tunneling packets with HW offload flags is not
 * supported"): a container whose packets can reach a tunnel keeps tx checksum off; VLAN (and
 * host-local) traffic, patch ports, conntrack and meters carry offloaded segments. The decision
 * is made at the ADD and revisited at every state change (agent.ts fixTxChecksum): a container
 * left its offload loses it when its packets may reach a tunnel (a VXLAN network added to its
 * routed tenant) or the switch restarted without TSO.
 */
import type { CommandRunner } from '../../lib/exec';
import type { HostState, Network } from '../state/host-state';

export const TSO_KEY = 'userspace-tso-enable';

/** The other_config entry to write so that the next ovs-vswitchd start has TSO; {} when it is there (pure). */
export function tsoSettingToFix(otherConfig: Readonly<Record<string, string>>): Record<string, string> {
  return otherConfig[TSO_KEY] === 'true' ? {} : { [TSO_KEY]: 'true' };
}

/**
 * Whether ovs-vswitchd opened the bridge's local port (a tap) with a virtio-net header, from
 * `ip -d link show dev BRIDGE`: it does exactly when userspace TSO was on when it opened the port.
 * undefined when the output shows no tap (pure).
 */
export function parseTapVnetHdr(ipDetails: string): boolean | undefined {
  const m = /\btun type tap\b.*?\bvnet_hdr (on|off)\b/s.exec(ipDetails);
  return m ? m[1] === 'on' : undefined;
}

/** True when the running ovs-vswitchd has userspace TSO (probed on the bridge's local tap). */
export async function userspaceTsoActive(bridge: string, runner: CommandRunner): Promise<boolean> {
  const r = await runner('ip', ['-d', 'link', 'show', 'dev', bridge], { allowFailure: true });
  return r.code === 0 && parseTapVnetHdr(r.stdout) === true;
}

/**
 * Whether a container's packets can reach a tunnel port (pure): a VXLAN network's do, and so do a
 * VLAN network's when the fabric routes (fwdMode routing) and its tenant has a VXLAN network: a
 * routed packet is delivered like one of the destination network, over its tunnel, and a reply
 * to a VXLAN container goes back that way. An unknown network might.
 */
export function mayTunnel(
  state: Pick<HostState, 'global' | 'networks'> | undefined,
  net: Pick<Network, 'tenant' | 'encap'> | undefined,
): boolean {
  if (!state || !net || net.encap !== 'vlan') return true;
  return state.global.fwdMode === 'routing' && state.networks.some((n) => n.tenant === net.tenant && n.encap === 'vxlan');
}

/**
 * Whether a container gets `ethtool -K tx off` (pure): when the host wants the workaround (netdev
 * datapath), except while the switch has userspace TSO and the container's packets cannot reach a
 * tunnel port (mayTunnel: OVS 3.1 drops offloaded segments there), unless the operator forced it.
 */
export function txChecksumOffFor(p: { txChecksumOff: boolean; forced: boolean; tsoActive: boolean }, tunnels: boolean): boolean {
  if (!p.txChecksumOff) return false;
  return p.forced || !p.tsoActive || tunnels;
}
