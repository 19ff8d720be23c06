/**
 * Makes the host's kernel hold the desired host-network state (netloom's part of it, nothing
 * else): the gateway ports' kernel side up (no reverse-path filter: their sources are tenant
 * addresses the main table does not route back; no IPv6; on the userspace datapath transmit
 * checksums computed by the kernel), IPv4 forwarding and mark reflection on, the nftables table loaded atomically, and
 * the ip rules and routes reconciled with what the kernel lists (kernel-plan.ts). Like the flow
 * reconciler it trusts what it applied last: the same desired state again costs no command until
 * `invalidate()` (OVS reconnected). Nothing is remembered across restarts, so a crash leaves
 * nothing the next start does not correct. Commands go through a CommandRunner
 * (a fake one in unit tests).
 */
import type { CommandRunner } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import type { HostNetState } from './desired-state';
import { parseRoutes, parseRules, planKernel } from './kernel-plan';
import { renderNftTable } from './nft-render';
import { loadNftTable } from './nft-table';
import { NFT_FAMILY, NFT_TABLE, ROUTE_PROTO } from './numbering';

/** Host-wide settings a gateway needs: IPv4 forwarding, TCP accepts and kernel replies (ICMP, RST) marked like their request. */
export const HOST_SYSCTLS = ['net.ipv4.ip_forward=1', 'net.ipv4.tcp_fwmark_accept=1', 'net.ipv4.fwmark_reflect=1'];

export interface HostNetApplierOptions {
  runner: CommandRunner;
  /** `ethtool -K <port> tx off` on gateway ports (the userspace datapath needs it for TCP) */
  txChecksumOff: boolean;
  logger?: Logger;
}

export interface ApplyReport {
  /** the nftables table was loaded (its text changed, or first run) */
  nft: boolean;
  /** rule and route commands run */
  commands: number;
}

export class HostNetApplier {
  private loadedTable: string | undefined;
  /** the desired state of the last successful apply */
  private applied: string | undefined;
  private readonly prepared = new Set<string>();

  constructor(private readonly opts: HostNetApplierOptions) {}

  /** Forget what was loaded (the next apply loads the table and prepares the ports again). */
  invalidate(): void {
    this.loadedTable = undefined;
    this.applied = undefined;
    this.prepared.clear();
  }

  private async preparePort(port: string): Promise<void> {
    const run = this.opts.runner;
    await run('ip', ['link', 'set', 'dev', port, 'up']);
    await run('sysctl', ['-q', '-w', `net.ipv4.conf.${port}.rp_filter=0`, `net.ipv6.conf.${port}.disable_ipv6=1`]);
    if (this.opts.txChecksumOff) await run('ethtool', ['-K', port, 'tx', 'off'], { allowFailure: true });
  }

  async apply(desired: HostNetState): Promise<ApplyReport> {
    const key = JSON.stringify(desired);
    if (key === this.applied) return { nft: false, commands: 0 };
    this.applied = undefined;
    const run = this.opts.runner;
    const ports = new Set(desired.gateways.map((g) => g.port));
    for (const p of [...this.prepared]) if (!ports.has(p)) this.prepared.delete(p);
    for (const g of desired.gateways) {
      if (this.prepared.has(g.port)) continue;
      await this.preparePort(g.port);
      this.prepared.add(g.port);
    }
    // forwarding (also of node ports sent on to another host); the host's answers to a tenant take
    // the mark of what the tenant sent (nft-render.ts)
    if (desired.gateways.length > 0 || (desired.nodePorts?.rules.length ?? 0) > 0) await run('sysctl', ['-q', '-w', ...HOST_SYSCTLS]);
    const table = renderNftTable(desired);
    let nft = false;
    if (table !== this.loadedTable) {
      await loadNftTable(run, NFT_FAMILY, NFT_TABLE, table);
      this.loadedTable = table;
      nft = true;
    }
    const rules = parseRules((await run('ip', ['-j', 'rule', 'show'])).stdout);
    const routes = parseRoutes((await run('ip', ['-j', 'route', 'show', 'table', 'all', 'proto', String(ROUTE_PROTO)])).stdout);
    const plan = planKernel(desired, { rules, routes });
    for (const [cmd, args] of plan) await run(cmd, args);
    this.applied = key;
    if (nft || plan.length > 0) this.opts.logger?.info({ nft, commands: plan.length, gateways: [...ports] }, 'host network applied');
    return { nft, commands: plan.length };
  }
}
