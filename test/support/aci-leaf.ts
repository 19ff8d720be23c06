/**
 * A stand-in for an ACI leaf switch, for tests of ACI mode's data plane on a lab: the hosts' data
 * uplinks leave the lab's underlay bridge and plug into the leaf instead, so every frame between
 * hosts crosses it. The leaf is a namespace with a private OVS (userspace datapath: the kernel
 * here has neither 8021q nor bridge VLAN filtering) holding two bridges:
 *
 * - `leaf`: each host port is a trunk of the bridge domain's EPG VLANs only (`trunks=`); frames of
 *   one VLAN are switched between hosts with per-VLAN MAC learning (an EPG across leaf ports), and
 *   a frame of any other VLAN, or untagged, goes nowhere;
 * - `bd`, the bridge domain: one patch port per EPG VLAN, tied to an access port of that VLAN on
 *   `leaf`; it switches a frame from one EPG's VLAN into another's, where the receiver learnt, and
 *   so hands it back to the receiver's host with the receiver's VLAN, also to the host it came
 *   from (the leaf "hairpins" it: it entered `leaf` again by the patch, not by the host's port).
 *   That is what a leaf does between the EPGs of one bridge domain whose contracts permit the
 *   traffic (here all of them).
 *
 * `setBridging(false)` empties `bd`'s flow table: frames stay within their VLAN, as with no
 * contract between the EPGs. `setVlans` reconfigures the EPG VLANs (as the APIC pushes a changed
 * encap to its leaves). `plainVlans` are trunked too but stay outside the bridge domain: the
 * fabric's ports for a network that is no EPG (a plain VLAN, fabric mode default). `stop` plugs
 * the uplinks back into the underlay bridge.
 */
import { rmSync } from 'node:fs';
import { run } from '../../lib/exec';
import { addNetns, delNetns, linkUp, setMaster } from '../../deploy/lab/netns';
import { ovsCtl, startOvs, stopOvs, type OvsInstance } from '../../deploy/lab/ovs-instance';

export interface AciLeafSpec {
  /** the leaf's namespace */
  netns: string;
  /** the lab's underlay namespace and its data bridge, where the uplinks are plugged now */
  underlayNetns: string;
  bridge: string;
  /** underlay-side ends of the hosts' data uplinks (LabPlan hosts' dataPeer) */
  hostPorts: string[];
  /** the EPG encap VLANs of the bridge domain */
  vlans: number[];
  /** VLANs trunked between the hosts but not in the bridge domain (switched only within themselves) */
  plainVlans?: number[];
  /** the private OVS's directory (removed on stop) */
  dir: string;
}

export class AciLeaf {
  private vlans: number[] = [];

  private constructor(
    readonly spec: AciLeafSpec,
    private readonly ovs: OvsInstance,
  ) {}

  static async start(spec: AciLeafSpec): Promise<AciLeaf> {
    await AciLeaf.cleanup(spec); // leftovers of an earlier run
    await addNetns(spec.netns);
    await linkUp('lo', spec.netns);
    for (const p of spec.hostPorts) {
      await run('ip', ['-n', spec.underlayNetns, 'link', 'set', p, 'nomaster']);
      await run('ip', ['-n', spec.underlayNetns, 'link', 'set', p, 'netns', spec.netns]);
      await linkUp(p, spec.netns);
    }
    // like the lab hosts' switches: their TCP segments arrive unsegmented, checksums left to offload
    const ovs = await startOvs(spec.dir, spec.netns, { userspaceTso: true });
    await ovsCtl(ovs, 'ovs-vsctl', [
      ...['add-br', 'leaf', '--', 'set', 'bridge', 'leaf', 'datapath_type=netdev'],
      ...['--', 'add-br', 'bd', '--', 'set', 'bridge', 'bd', 'datapath_type=netdev', 'fail_mode=secure'],
      ...spec.hostPorts.flatMap((p) => ['--', 'add-port', 'leaf', p]),
    ]);
    const leaf = new AciLeaf(spec, ovs);
    await leaf.setVlans(spec.vlans);
    await leaf.setBridging(true);
    return leaf;
  }

  /** The bridge domain's EPG VLANs now: the hosts' trunks and `bd`'s ports follow, in one transaction. */
  async setVlans(vlans: number[]): Promise<void> {
    const gone = this.vlans.filter((v) => !vlans.includes(v));
    const added = vlans.filter((v) => !this.vlans.includes(v));
    // an empty trunks= would trunk every VLAN: VLAN 4095 (never a frame's) keeps the port closed instead
    const trunks = [...vlans, ...(this.spec.plainVlans ?? [])];
    await ovsCtl(this.ovs, 'ovs-vsctl', [
      ...this.spec.hostPorts.flatMap((p) => ['--', 'set', 'port', p, `trunks=${trunks.length > 0 ? trunks.join(',') : '4095'}`]),
      ...gone.flatMap((v) => ['--', 'del-port', 'leaf', `epg${v}`, '--', 'del-port', 'bd', `bd${v}`]),
      ...added.flatMap((v) => [
        ...['--', 'add-port', 'leaf', `epg${v}`, `tag=${v}`, '--', 'set', 'interface', `epg${v}`, 'type=patch', `options:peer=bd${v}`],
        ...['--', 'add-port', 'bd', `bd${v}`, '--', 'set', 'interface', `bd${v}`, 'type=patch', `options:peer=epg${v}`],
      ]),
    ]);
    this.vlans = [...vlans];
  }

  /** Whether the bridge domain switches between its EPG VLANs (the leaf "up" for traffic between groups). */
  async setBridging(on: boolean): Promise<void> {
    await ovsCtl(this.ovs, 'ovs-ofctl', ['del-flows', 'bd']);
    if (on) await ovsCtl(this.ovs, 'ovs-ofctl', ['add-flow', 'bd', 'priority=0,actions=NORMAL']);
  }

  async stop(): Promise<void> {
    await AciLeaf.cleanup(this.spec);
  }

  /** Plug the uplinks back into the underlay bridge, stop the OVS and remove the namespace (also after a failed start). */
  static async cleanup(spec: AciLeafSpec): Promise<void> {
    await stopOvs(spec.dir).catch(() => undefined);
    for (const p of spec.hostPorts) {
      const moved = await run('ip', ['-n', spec.netns, 'link', 'set', p, 'netns', spec.underlayNetns], { allowFailure: true });
      if (moved.code !== 0) continue;
      await setMaster(p, spec.bridge, spec.underlayNetns);
      await linkUp(p, spec.underlayNetns);
    }
    await delNetns(spec.netns);
    rmSync(spec.dir, { recursive: true, force: true });
  }
}
