/**
 * Routed endpoints on a real kernel without a lab, for the nftables policy tests: "host" namespaces,
 * each with its containers routed as the BGP design has it (veth host side in the host, a /32 route
 * `proto 81` to it, proxy ARP answering the containers' link-local gateway 169.254.1.1), the hosts
 * joined pairwise with /32 routes `proto 80` to each other's endpoints (what BGP would install),
 * and one policy applier per host (RoutedPolicyApplier, `nft -f` in its namespace). Every name
 * starts with the test's prefix; cleanUp deletes the namespaces (and so everything in them).
 */
import { run, type CommandRunner } from '../../lib/exec';
import { RoutedPolicyApplier } from '../../netplugin/routed/policy-applier';

export interface RoutedCtr {
  name: string;
  host: string;
  ip: string;
}

export class RoutedNamespaces {
  readonly appliers = new Map<string, RoutedPolicyApplier>();

  /** `prefix`: the test's own (a few letters); container names short enough for `nr-NAME` (interface names are 15 characters) */
  constructor(
    readonly prefix: string,
    readonly hosts: readonly string[],
    readonly containers: readonly RoutedCtr[],
  ) {}

  hostNs(host: string): string {
    return `${this.prefix}-${host}`;
  }

  ctrNs(ctr: string): string {
    return `${this.prefix}-c-${ctr}`;
  }

  /** The host side of a container's veth. */
  hostIf(ctr: string): string {
    return `nr-${ctr}`;
  }

  /** A command runner in a host's namespace. */
  runner(host: string): CommandRunner {
    const ns = this.hostNs(host);
    return ((cmd, args, opts) => run(cmd, args, { ...opts, netns: ns })) as CommandRunner;
  }

  async setUp(): Promise<void> {
    const sh = (netns: string, cmd: string, args: string[]) => run(cmd, args, { netns });
    for (const h of this.hosts) {
      const ns = this.hostNs(h);
      await run('ip', ['netns', 'add', ns]);
      await sh(ns, 'ip', ['link', 'set', 'lo', 'up']);
      await sh(ns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
      // proxy ARP answers for 169.254.1.1 only when the host routes it elsewhere than the asking port
      // (this kernel has no dummy devices: a veth pair whose ends both stay in the host)
      await sh(ns, 'ip', ['link', 'add', 'nfd0', 'type', 'veth', 'peer', 'name', 'nfd1']);
      await sh(ns, 'ip', ['link', 'set', 'nfd0', 'up']);
      await sh(ns, 'ip', ['link', 'set', 'nfd1', 'up']);
      await sh(ns, 'ip', ['route', 'add', 'default', 'dev', 'nfd0']);
      this.appliers.set(h, new RoutedPolicyApplier({ runner: this.runner(h) }));
    }
    // the fabric: host i and host j joined by a veth, 169.254.<10i+j>.1/.2
    const hosts = this.hosts;
    for (let i = 0; i < hosts.length; i++)
      for (let j = i + 1; j < hosts.length; j++) {
        const [a, b] = [this.hostNs(hosts[i]!), this.hostNs(hosts[j]!)];
        const net = `169.254.${10 * (i + 1) + (j + 1)}`;
        await sh(a, 'ip', ['link', 'add', `f${i + 1}${j + 1}`, 'type', 'veth', 'peer', 'name', `f${j + 1}${i + 1}`, 'netns', b]);
        await sh(a, 'ip', ['addr', 'add', `${net}.1/30`, 'dev', `f${i + 1}${j + 1}`]);
        await sh(b, 'ip', ['addr', 'add', `${net}.2/30`, 'dev', `f${j + 1}${i + 1}`]);
        await sh(a, 'ip', ['link', 'set', `f${i + 1}${j + 1}`, 'up']);
        await sh(b, 'ip', ['link', 'set', `f${j + 1}${i + 1}`, 'up']);
        for (const c of this.containers) {
          if (c.host === hosts[j]) await sh(a, 'ip', ['route', 'add', `${c.ip}/32`, 'via', `${net}.2`, 'proto', '80']);
          if (c.host === hosts[i]) await sh(b, 'ip', ['route', 'add', `${c.ip}/32`, 'via', `${net}.1`, 'proto', '80']);
        }
      }
    for (const c of this.containers) {
      const [h, ns, hi] = [this.hostNs(c.host), this.ctrNs(c.name), this.hostIf(c.name)];
      await run('ip', ['netns', 'add', ns]);
      await sh(h, 'ip', ['link', 'add', hi, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await sh(h, 'sysctl', ['-q', '-w', `net.ipv4.conf.${hi}.proxy_arp=1`, `net.ipv4.neigh.${hi}.proxy_delay=0`]);
      await sh(h, 'ip', ['link', 'set', hi, 'up']);
      await sh(h, 'ip', ['route', 'add', `${c.ip}/32`, 'dev', hi, 'proto', '81', 'scope', 'link']);
      await sh(ns, 'ip', ['link', 'set', 'lo', 'up']);
      await sh(ns, 'ip', ['addr', 'add', `${c.ip}/32`, 'dev', 'eth0']);
      await sh(ns, 'ip', ['link', 'set', 'eth0', 'up']);
      await sh(ns, 'ip', ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
      await sh(ns, 'ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'onlink']);
    }
  }

  /** Delete every namespace the set-up makes (also after a partial set-up). */
  async cleanUp(): Promise<void> {
    for (const c of this.containers) await run('ip', ['netns', 'del', this.ctrNs(c.name)], { allowFailure: true });
    for (const h of this.hosts) await run('ip', ['netns', 'del', this.hostNs(h)], { allowFailure: true });
    this.appliers.clear();
  }
}
