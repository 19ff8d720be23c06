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
 * supported"): a VXLAN network's containers must keep tx checksum off; VLAN (and host-local)
 * traffic, patch ports, conntrack and meters carry offloaded segments.
 */
import type { CommandRunner } from '../../lib/exec';
import type { Encap } from '../state/host-state';

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
 * Whether a container of a network with `encap` gets `ethtool -K tx off` (pure): when the host
 * wants the workaround (netdev datapath), except for a VLAN network while the switch has userspace
 * TSO, unless the operator forced it everywhere. A VXLAN network keeps it (its offloaded segments
 * would be dropped at the tunnel port), and so does a network not known yet (it might tunnel).
 */
export function txChecksumOffFor(p: { txChecksumOff: boolean; forced: boolean; tsoActive: boolean }, encap: Encap | undefined): boolean {
  if (!p.txChecksumOff) return false;
  return p.forced || !(p.tsoActive && encap === 'vlan');
}
