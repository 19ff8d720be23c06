/**
 * The routed uplink (`netplugin --routed-uplink IF`, docs/bgp.md): a kernel interface on the
 * underlay that routed (BGP) traffic leaves and arrives on, beside an OVS uplink. On the netdev
 * datapath the OVS uplink and the VTEP address belong to the userspace bridge (br-phy), and every
 * packet routed through its address would cross the userspace datapath twice; through this
 * interface routed traffic stays in the kernel, while VLAN and VXLAN keep br-phy. Its address is
 * the next hop the host announces, and learned routes go out of it (`dev IF onlink`).
 *
 * Two interfaces of one host on one L2 segment answer each other's ARP (the kernel's weak host
 * model): the routed uplink would answer for the VTEP address with its own MAC (peers' tunnels
 * would then end in the kernel, not in OVS), and br-phy for the routed address (routed traffic
 * would cross OVS again). So both answer only for their own addresses (`arp_ignore=1`) and ask
 * with them (`arp_announce=2`).
 */
import { NetloomError } from '../../lib/errors';
import type { CommandRunner } from '../../lib/exec';

export interface RoutedUplink {
  dev: string;
  /** its IPv4 address (the first one) */
  ip: string;
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function bad(message: string): NetloomError {
  return new NetloomError('INVALID_ARGUMENT', message, { field: 'routed-uplink' });
}

/** The first IPv4 address of `ip -j -4 addr show dev IF` (pure). */
export function parseUplinkAddress(dev: string, json: string): string {
  let rows: unknown;
  try {
    rows = JSON.parse(json.trim() === '' ? '[]' : json);
  } catch {
    throw bad(`--routed-uplink ${dev}: ip addr show gave no JSON`);
  }
  const infos = Array.isArray(rows) ? rows.flatMap((r: { addr_info?: unknown }) => (Array.isArray(r.addr_info) ? r.addr_info : [])) : [];
  const v4 = (infos as Array<{ family?: string; local?: string }>).find((a) => a.family === 'inet' && typeof a.local === 'string');
  if (!v4?.local) throw bad(`--routed-uplink ${dev} has no IPv4 address: give it the address routed traffic should arrive on`);
  return v4.local;
}

/** The sysctl settings that keep ARP apart on the routed uplink and the OVS bridge beside it (pure). */
export function uplinkArpSettings(dev: string, phyBridge: string | undefined): string[] {
  // slash-separated keys: a dot in an interface name stays part of the name
  return [dev, ...(phyBridge ? [phyBridge] : [])].flatMap((i) => [`net/ipv4/conf/${i}/arp_ignore=1`, `net/ipv4/conf/${i}/arp_announce=2`]);
}

/** Check the interface, read its address, set the ARP settings (also on `phyBridge`, the OVS bridge that owns the VTEP address). */
export async function prepareRoutedUplink(dev: string, phyBridge: string | undefined, runner: CommandRunner): Promise<RoutedUplink> {
  if (!IFNAME.test(dev)) throw bad(`--routed-uplink must be an interface name, got ${JSON.stringify(dev)}`);
  const r = await runner('ip', ['-j', '-4', 'addr', 'show', 'dev', dev], { allowFailure: true });
  if (r.code !== 0) throw bad(`--routed-uplink ${dev}: no such interface (${r.stderr.trim()})`);
  const ip = parseUplinkAddress(dev, r.stdout);
  await runner('sysctl', ['-qw', ...uplinkArpSettings(dev, phyBridge)]);
  return { dev, ip };
}
