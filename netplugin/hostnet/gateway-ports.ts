/**
 * The tenants' gateway ports on the integration bridge, through OVSDB: an internal port
 * `nlgw<vrfId>` with its fixed MAC (Interface column `mac`) and external_ids
 * `netloom-gateway=<tenant>` and its MTU (`mtu_request`, set again on ports that exist), one per
 * tenant that has a gateway on this host. `ensure` adds the missing ones and returns every
 * desired port's ofport (what the pipeline needs); `removeStale`
 * deletes the bridge's other nlgw ports (a tenant gone from the host, or left by a crashed agent).
 * A port whose MAC is not the fixed one (made by hand, say) is made again.
 */
import type { Logger } from '../../lib/logger';
import { eq, update, type VSwitch } from '../../ovs/ovsdb';
import type { TenantGateway } from './desired-state';
import { vrfOfGatewayPort } from './numbering';

export const GATEWAY_EXTERNAL_ID = 'netloom-gateway';

/** The part of VSwitch the gateway ports need (a fake one in unit tests). */
export type GatewaySwitch = Pick<VSwitch, 'readState' | 'addPort' | 'deletePort' | 'syncWithVswitchd' | 'waitForOfport' | 'run'>;

export class GatewayPorts {
  constructor(
    private readonly bridge: string,
    private readonly logger?: Logger,
  ) {}

  /** The nlgw ports the bridge has, with their MAC in use (lower case; '' when not known yet). */
  async list(vs: GatewaySwitch): Promise<Map<string, { mac: string; ofport: number | undefined }>> {
    const st = await vs.readState();
    const br = st.bridges.find((b) => b.name === this.bridge);
    const out = new Map<string, { mac: string; ofport: number | undefined }>();
    for (const p of br?.ports ?? []) {
      if (vrfOfGatewayPort(p.name) === undefined) continue;
      const i = p.interfaces.find((x) => x.name === p.name);
      out.set(p.name, { mac: (i?.macInUse ?? '').toLowerCase(), ofport: i?.ofport });
    }
    return out;
  }

  /** Add the missing gateway ports; returns port name -> ofport for every desired one. */
  async ensure(vs: GatewaySwitch, gateways: readonly TenantGateway[]): Promise<Record<string, number>> {
    const have = await this.list(vs);
    let added = false;
    for (const g of gateways) {
      const h = have.get(g.port);
      if (h && (h.mac === '' || h.mac === g.mac)) {
        await vs.run({ ops: [update('Interface', [eq('name', g.port)], { mtu_request: g.mtu })], guards: [] });
        continue;
      }
      if (h) {
        this.logger?.warn({ port: g.port, mac: h.mac, want: g.mac }, 'gateway port has another MAC: making it again');
        await vs.deletePort(g.port, { ifExists: true });
      }
      await vs.addPort(this.bridge, {
        name: g.port,
        type: 'internal',
        mac: g.mac,
        mtuRequest: g.mtu,
        externalIds: { [GATEWAY_EXTERNAL_ID]: g.tenant },
      });
      added = true;
      this.logger?.info({ port: g.port, tenant: g.tenant }, 'gateway port added');
    }
    if (added) await vs.syncWithVswitchd(10_000);
    const out: Record<string, number> = {};
    for (const g of gateways) out[g.port] = await vs.waitForOfport(g.port, 5000);
    return out;
  }

  /** Delete the bridge's gateway ports that are not desired; returns their names. */
  async removeStale(vs: GatewaySwitch, gateways: readonly TenantGateway[]): Promise<string[]> {
    const want = new Set(gateways.map((g) => g.port));
    const stale = [...(await this.list(vs)).keys()].filter((p) => !want.has(p)).sort();
    for (const p of stale) {
      await vs.deletePort(p, { ifExists: true });
      this.logger?.info({ port: p }, 'gateway port removed');
    }
    return stale;
  }
}
