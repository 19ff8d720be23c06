/**
 * Sets up this host's Open vSwitch through OVSDB only (no ovs-vsctl): the integration bridge
 * (`br-int`: fail_mode secure, OpenFlow13, datapath type from the config), and when an uplink NIC
 * is configured the physical bridge `br-phy` that owns it (standalone = NORMAL switching) joined to
 * br-int by a patch pair (br-int's end is the VLAN trunk, ofport 4001), and, when a VTEP address is
 * configured, the VTEP address on br-phy's local interface (what userspace tunnelling needs) and
 * ONE flow-based VXLAN port on br-int (`key=flow remote_ip=flow tos=inherit`, ofport 4000: the
 * outer header carries the DSCP the pipeline marked on the inner one). Every step checks
 * what exists first, so running it again (agent restart, ovs-vswitchd restart) changes nothing
 * that is already right. See docs/netplugin.md for why br-phy carries both VLAN and VXLAN traffic.
 *
 * With `oneBridge` there is no br-phy: the uplink is a port of br-int itself (ofport 4001, so the
 * pipeline's VLAN flows stay the same) and the VTEP address lives on br-int's local port; the
 * pipeline passes the host's underlay traffic (features/underlay.ts). Each ovs-vswitchd on the
 * userspace datapath polls every port and listener on every pass of its main loop, so a bridge
 * fewer is a tap and two listeners fewer per pass (docs/benchmarks.md, issue 17). Either way the
 * setup converts a host made the other way: the uplink moves, the patch pair and br-phy go (or
 * come back), and the VTEP address follows; that move is not hitless (the uplink's port is
 * deleted and added), a restart in the same mode is.
 */
import { NetloomError } from '../../lib/errors';
import { run } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import { eq, update, VSwitch } from '../../ovs/ovsdb';
import type { BridgeState } from '../../ovs/ovsdb/vswitch';
import type { PortSpec } from '../../ovs/ovsdb/vswitch-specs';
import type { BridgePorts } from '../state/host-state';
import { tsoSettingToFix } from './userspace-tso';

export const VXLAN_PORT = 'nl-vxlan';
export const VXLAN_OFPORT = 4000;
export const PATCH_INT = 'nl-patch-phy';
export const PATCH_PHY = 'nl-patch-int';
export const UPLINK_OFPORT = 4001;

export interface BridgeConfig {
  /** integration bridge, default br-int */
  bridge: string;
  /** physical bridge that owns the uplink, default br-phy */
  phyBridge: string;
  datapathType: 'netdev' | 'system';
  /** the data NIC (e.g. eth1); absent: no uplink, VLAN networks stay on the host */
  uplink?: string;
  /** VTEP address with prefix (e.g. 10.0.1.1/24); absent: no VXLAN port */
  vtepCidr?: string;
  /** write other_config:userspace-tso-enable=true (netdev; read by ovs-vswitchd at its next start) */
  userspaceTso?: boolean;
  /** the uplink and the VTEP address on the integration bridge itself: no physical bridge */
  oneBridge?: boolean;
}

/** The bridge whose local port holds the VTEP address (the kernel's route to the underlay). */
export function vtepBridge(cfg: Pick<BridgeConfig, 'bridge' | 'phyBridge' | 'oneBridge'>): string {
  return cfg.oneBridge ? cfg.bridge : cfg.phyBridge;
}

/** The flow-based VXLAN port's options: VNI and peer per flow, the inner packet's DSCP outside too. */
export const VXLAN_OPTIONS: Readonly<Record<string, string>> = { key: 'flow', remote_ip: 'flow', tos: 'inherit' };

/** The options of `have` that differ from or lack in `want` (pure; keys only in `have` are left alone). */
export function optionsToFix(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
}

/** What one bridge should look like, as OVSDB columns (pure). */
export function bridgeColumnsToFix(
  b: BridgeState,
  want: { datapathType: string; failMode: 'secure' | 'standalone'; protocols?: string[] },
): Record<string, string | string[]> {
  const fix: Record<string, string | string[]> = {};
  if (b.datapathType !== want.datapathType) fix.datapath_type = want.datapathType;
  if (b.failMode !== want.failMode) fix.fail_mode = want.failMode;
  if (want.protocols && !want.protocols.every((p) => b.protocols.includes(p)))
    fix.protocols = [...new Set([...b.protocols, ...want.protocols])].sort();
  return fix;
}

export class BridgeSetup {
  constructor(
    private readonly cfg: BridgeConfig,
    private readonly logger?: Logger,
  ) {}

  private async ensureBridge(vs: VSwitch, name: string, failMode: 'secure' | 'standalone', protocols?: string[]): Promise<void> {
    const b = await vs.getBridge(name);
    if (!b) {
      await vs.addBridge({
        name,
        datapathType: this.cfg.datapathType,
        failMode,
        ...(protocols ? { protocols: protocols as ['OpenFlow13'] } : {}),
      });
      this.logger?.info({ bridge: name }, 'bridge created');
      return;
    }
    const fix = bridgeColumnsToFix(b, { datapathType: this.cfg.datapathType, failMode, ...(protocols ? { protocols } : {}) });
    if (Object.keys(fix).length > 0) {
      await vs.run({ ops: [update('Bridge', [eq('name', name)], fix)], guards: [] });
      this.logger?.info({ bridge: name, fix }, 'bridge settings corrected');
    }
  }

  private async ensurePort(vs: VSwitch, bridge: string, spec: PortSpec): Promise<void> {
    const found = await vs.findPort(spec.name);
    if (found && found.bridge.name === bridge) {
      // an older agent made it without an option added since (tos on the VXLAN port)
      const iface = found.port.interfaces.find((i) => i.name === spec.name);
      const fix = iface && spec.options ? optionsToFix(iface.options, spec.options) : {};
      if (Object.keys(fix).length > 0) {
        await vs.setMapKeys('Interface', spec.name, 'options', fix);
        this.logger?.info({ port: spec.name, fix }, 'port options corrected');
      }
      return;
    }
    if (found) {
      this.logger?.warn({ port: spec.name, from: found.bridge.name, to: bridge }, 'moving port to its bridge');
      await vs.deletePort(spec.name, { ifExists: true });
    }
    await vs.addPort(bridge, spec);
  }

  /** Make OVS look as configured; returns the ofports of the uplink and the VXLAN port. */
  async apply(vs: VSwitch): Promise<BridgePorts> {
    const c = this.cfg;
    if (c.userspaceTso) {
      const fix = tsoSettingToFix((await vs.readRoot()).otherConfig);
      if (Object.keys(fix).length > 0) {
        await vs.setMapKeys('Open_vSwitch', undefined, 'other_config', fix);
        this.logger?.warn({ otherConfig: fix }, 'userspace TSO set: it takes effect when ovs-vswitchd restarts');
      }
    }
    await this.ensureBridge(vs, c.bridge, 'secure', ['OpenFlow13']);
    const ports: BridgePorts = {};
    if (c.uplink && c.oneBridge) await this.uplinkOnIntegrationBridge(vs, c.uplink);
    else if (c.uplink) {
      // back from one bridge: the uplink (and the VTEP address) are on br-int now
      const from = (await vs.findPort(c.uplink))?.bridge;
      await this.ensureBridge(vs, c.phyBridge, 'standalone');
      if (from?.name === c.bridge) await this.keepVtepMac(vs, from, c.phyBridge);
      await this.ensurePort(vs, c.phyBridge, { name: c.uplink });
      await this.ensurePort(vs, c.bridge, { name: PATCH_INT, type: 'patch', options: { peer: PATCH_PHY }, ofportRequest: UPLINK_OFPORT });
      await this.ensurePort(vs, c.phyBridge, { name: PATCH_PHY, type: 'patch', options: { peer: PATCH_INT } });
    }
    if (c.vtepCidr) {
      await this.ensurePort(vs, c.bridge, {
        name: VXLAN_PORT,
        type: 'vxlan',
        options: { ...VXLAN_OPTIONS },
        ofportRequest: VXLAN_OFPORT,
      });
    }
    await vs.syncWithVswitchd(10_000);
    if (c.uplink) {
      ports.uplink = await vs.waitForOfport(c.oneBridge ? c.uplink : PATCH_INT, 5000);
      if (c.oneBridge) ports.oneBridge = true;
      // br-phy owns the uplink (and, for VXLAN, the VTEP address): the kernel must not also answer
      // ARP on the uplink with its own MAC (weak host model), or peers' tunnel neighbour caches
      // learn a MAC that OVS does not terminate tunnels on
      await run('ip', ['link', 'set', c.uplink, 'arp', 'off', 'up']);
    }
    if (c.vtepCidr) {
      ports.vxlan = await vs.waitForOfport(VXLAN_PORT, 5000);
      if (c.uplink) {
        // userspace tunnelling: the VTEP address lives on the bridge that owns the underlay NIC
        const dev = vtepBridge(c);
        await run('ip', ['link', 'set', dev, 'up']);
        await run('ip', ['addr', 'replace', c.vtepCidr, 'dev', dev]);
        // a host that was one-bridge before: br-int's local port must not keep the address too
        if (!c.oneBridge) await run('ip', ['addr', 'del', c.vtepCidr, 'dev', c.bridge], { allowFailure: true });
      }
    }
    return ports;
  }

  /**
   * The uplink as br-int's port 4001, the port the patch pair had, so the pipeline's VLAN flows
   * are the same either way. A host set up with two bridges is converted: the patch pair goes
   * first (its br-int end holds 4001), then br-phy, with it the VTEP address on its local port.
   */
  private async uplinkOnIntegrationBridge(vs: VSwitch, uplink: string): Promise<void> {
    const c = this.cfg;
    const patch = await vs.findPort(PATCH_INT);
    if (patch && patch.bridge.name === c.bridge) {
      await vs.deletePort(PATCH_INT, { ifExists: true });
      await vs.deletePort(PATCH_PHY, { ifExists: true });
      this.logger?.warn({ bridge: c.bridge, phyBridge: c.phyBridge }, 'one bridge: the patch pair to the physical bridge removed');
    }
    const phy = await vs.getBridge(c.phyBridge);
    if (phy?.ports.some((p) => p.name === uplink)) await this.keepVtepMac(vs, phy, c.bridge);
    // only a physical bridge that holds nothing but the uplink and its own local port is ours to delete
    if (phy && phy.ports.every((p) => [c.phyBridge, uplink, PATCH_PHY].includes(p.name))) {
      await vs.deleteBridge(c.phyBridge, { ifExists: true });
      this.logger?.warn({ phyBridge: c.phyBridge }, 'one bridge: the physical bridge removed');
    }
    await this.ensurePort(vs, c.bridge, { name: uplink, ofportRequest: UPLINK_OFPORT });
  }

  /**
   * The VTEP address moves from bridge `from` to bridge `to`: `to` takes `from`'s MAC (pinned as
   * other_config:hwaddr, unless `to` has one already). Peers keep this VTEP's MAC in their tunnel
   * neighbour caches, learnt once from an ARP reply and kept for minutes: with a new MAC their
   * tunnel packets would miss this host until then. (A bridge's own MAC is the lowest universal
   * MAC among its ports, else one derived from its name: equal on a host whose uplink has a
   * universal MAC, different in the lab, whose NICs are veths.)
   */
  private async keepVtepMac(vs: VSwitch, from: BridgeState, to: string): Promise<void> {
    const mac = from.ports.flatMap((p) => p.interfaces).find((i) => i.name === from.name)?.macInUse;
    const target = await vs.getBridge(to);
    if (!mac || !target || target.otherConfig.hwaddr) return;
    await vs.setMapKeys('Bridge', to, 'other_config', { hwaddr: mac });
    this.logger?.info({ bridge: to, hwaddr: mac }, "the VTEP's MAC kept on the bridge it moves to");
  }
}

/** Check a VTEP CIDR like 10.0.1.1/24; returns the bare address. */
export function vtepAddress(cidr: string): string {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32 || m[1]!.split('.').some((p) => Number(p) > 255)) {
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `--vtep-ip must be an IPv4 address with prefix like 10.0.1.1/24, got ${JSON.stringify(cidr)}`,
      { field: 'vtep-ip' },
    );
  }
  return m[1]!;
}
