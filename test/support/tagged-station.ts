/**
 * A station on a lab's VLAN that is not a container: a namespace on the underlay's data bridge
 * (the trunk between the lab hosts' uplinks) whose one address sits on an 802.1Q-tagged
 * interface. The kernel here has no 8021q, so the tag is an OVS access port: a private OVS
 * (userspace datapath) in the namespace, eth0 (the veth to the underlay) as trunk port, and
 * the internal port `srv` with the VLAN tag, the address and the MAC. Stands in for a bare-metal
 * server or a VM in tests of external endpoints.
 */
import { rmSync } from 'node:fs';
import { run } from '../../lib/exec';
import { addNetns, addVeth, delNetns, linkUp, setMaster } from '../../deploy/lab/netns';
import { ovsCtl, startOvs, stopOvs } from '../../deploy/lab/ovs-instance';

export interface TaggedStationSpec {
  /** the station's namespace (also the prefix of its underlay-side veth) */
  netns: string;
  underlayNetns: string;
  /** the underlay's data bridge */
  bridge: string;
  vlan: number;
  /** address with prefix length */
  cidr: string;
  mac: string;
  /** the private OVS's directory (removed on stop) */
  dir: string;
  /** default route through this gateway, when given */
  gateway?: string;
}

export class TaggedStation {
  private constructor(readonly spec: TaggedStationSpec) {}

  /** the interface that carries the address */
  static readonly IFACE = 'srv';

  get netns(): string {
    return this.spec.netns;
  }

  static async start(spec: TaggedStationSpec): Promise<TaggedStation> {
    const s = new TaggedStation(spec);
    await TaggedStation.cleanup(spec); // leftovers of an earlier run
    const peer = `${spec.netns.slice(0, 12)}-u`;
    await addNetns(spec.netns);
    await linkUp('lo', spec.netns);
    await addVeth('eth0', spec.netns, peer, spec.underlayNetns);
    await setMaster(peer, spec.bridge, spec.underlayNetns);
    await linkUp(peer, spec.underlayNetns);
    await linkUp('eth0', spec.netns);
    const ovs = await startOvs(spec.dir, spec.netns);
    await ovsCtl(ovs, 'ovs-vsctl', [
      ...['add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev'],
      ...['--', 'add-port', 'br0', 'eth0'],
      ...['--', 'add-port', 'br0', TaggedStation.IFACE, `tag=${spec.vlan}`],
      ...['--', 'set', 'interface', TaggedStation.IFACE, 'type=internal', `mac="${spec.mac}"`],
    ]);
    const ip = (args: string[]) => run('ip', ['-n', spec.netns, ...args]);
    await ip(['link', 'set', TaggedStation.IFACE, 'address', spec.mac, 'up']);
    await ip(['addr', 'add', spec.cidr, 'dev', TaggedStation.IFACE]);
    if (spec.gateway) await ip(['route', 'add', 'default', 'via', spec.gateway]);
    // TCP through the userspace datapath needs checksums computed by the sender (docs: ENVIRONMENT)
    for (const dev of [TaggedStation.IFACE, 'eth0'])
      await run('ethtool', ['-K', dev, 'tx', 'off'], { netns: spec.netns, allowFailure: true });
    return s;
  }

  async stop(): Promise<void> {
    await TaggedStation.cleanup(this.spec);
  }

  /** Stop a station's OVS and remove its namespace (its veth and OVS's taps go with it), also after a failed start. */
  static async cleanup(spec: Pick<TaggedStationSpec, 'netns' | 'dir'>): Promise<void> {
    await stopOvs(spec.dir).catch(() => undefined);
    await delNetns(spec.netns);
    rmSync(spec.dir, { recursive: true, force: true });
  }
}
