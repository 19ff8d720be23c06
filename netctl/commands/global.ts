/** `netctl global info|inspect|set` (REST collection `globals`, the single key `global`). */
import type { Command } from 'commander';
import { asList, asObject, str as field } from '../client';
import { action, listOptions, optional, outputOption, type Runtime } from '../context';
import { render, toJson, toYaml } from '../format';
import { globalBody } from '../bodies';
import { UsageError } from '../errors';
import { intOption, isIPv4Cidr, isRange, oneOf } from '../validate';
import { DEFAULT_HOLD_TIME, DEFAULT_KEEPALIVE_TIME, MAX_AS, MAX_HOLD_TIME, MIN_HOLD_TIME, parseAs } from '../../lib/bgp/settings';
import { neighborsOption } from './bgp';
import type { JsonObject } from '../client';

/** `global info`'s BGP default lines, only when a default is set (Contiv's output otherwise). */
function bgpDefaultLines(g: JsonObject): string {
  if (g['bgpAs'] === undefined) return '';
  const n = Array.isArray(g['bgpNeighbors']) ? g['bgpNeighbors'].join(',') : '';
  const t = (k: string, d: number) => (typeof g[k] === 'number' ? String(g[k]) : `${d} (default)`);
  return `BGP default AS: ${field(g, 'bgpAs')}\nBGP default neighbors: ${n}\nBGP hold time: ${t('bgpHoldTime', DEFAULT_HOLD_TIME)}\nBGP keepalive: ${t('bgpKeepaliveTime', DEFAULT_KEEPALIVE_TIME)}\n`;
}

export function registerGlobal(program: Command, rt: Runtime): void {
  const global = program.command('global').description('Global information');

  listOptions(global.command('info').description('Show global information'), { tenant: true, all: true, json: true }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const items = asList(await client().get('/api/v1/globals/'));
      const text = (): string =>
        items
          .map(
            (g) =>
              `Fabric mode: ${field(g, 'networkInfraType')}\n` +
              `Forward mode: ${field(g, 'fwdMode')}\n` +
              `ARP mode: ${field(g, 'arpMode')}\n` +
              `Vlan Range: ${field(g, 'vlans')}\n` +
              `Vxlan range: ${field(g, 'vxlans')}\n` +
              `Private subnet: ${field(g, 'pvtSubnet')}\n` +
              bgpDefaultLines(g),
          )
          .join('');
      out(render(opts, items, text));
    }),
  );

  outputOption(global.command('inspect').description('Inspect Global Operational Information')).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const v = await client().get('/api/v1/inspect/globals/global/');
      out(opts['output'] === 'yaml' ? toYaml(v) : toJson(v));
    }),
  );

  global
    .command('set')
    .description('Set global parameters')
    .option('-f, --fabric-mode <mode>', 'Fabric mode (aci, aci-opflex or default)')
    .option('-v, --vlan-range <range>', 'Allowed Vlan id range')
    .option('-x, --vxlan-range <range>', 'Allowed Vxlan VNID range')
    .option('-b, --fwd-mode <mode>', 'forwarding mode (bridge,routing)')
    .option('-a, --arp-mode <mode>', 'arp mode (proxy,flood)')
    .option('-s, --private-subnet <cidr>', 'Select a /16 private subnet for host access')
    .option('--bgp-as <asn>', 'cluster-wide BGP default: the AS of hosts without a Bgp object (docs/bgp.md)')
    .option('--bgp-neighbors <list>', 'cluster-wide BGP default: neighbors, IP:AS[,IP:AS...]')
    .option('--bgp-hold-time <s>', `cluster-wide BGP default: hold time in seconds (${MIN_HOLD_TIME}..${MAX_HOLD_TIME}, default 9)`)
    .option('--bgp-keepalive <s>', 'cluster-wide BGP default: keepalive in seconds (below the hold time, default 3)')
    .option('--block-prefix <len>', 'prefix length of the address blocks hosts claim in networks that set none (16..30, default 26)')
    .action(
      action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client }) => {
        const networkInfraType = oneOf(optional(opts, 'fabricMode'), '--fabric-mode', ['default', 'aci', 'aci-opflex']);
        const fwdMode = oneOf(optional(opts, 'fwdMode'), '--fwd-mode', ['bridge', 'routing']);
        const arpMode = oneOf(optional(opts, 'arpMode'), '--arp-mode', ['proxy', 'flood']);
        const vlans = optional(opts, 'vlanRange');
        const vxlans = optional(opts, 'vxlanRange');
        const pvtSubnet = optional(opts, 'privateSubnet');
        const bp = optional(opts, 'blockPrefix');
        const blockPrefix = bp === undefined ? undefined : intOption(bp, '--block-prefix', 26, 16, 30);
        if (vlans !== undefined && !isRange(vlans, 1, 4094))
          throw new UsageError(`invalid value '${vlans}' for --vlan-range: expected N-M inside 1-4094`, 'vlan-range');
        if (vxlans !== undefined && !isRange(vxlans, 1, 16_777_215))
          throw new UsageError(`invalid value '${vxlans}' for --vxlan-range: expected N-M inside 1-16777215`, 'vxlan-range');
        if (pvtSubnet !== undefined && !isIPv4Cidr(pvtSubnet))
          throw new UsageError(`invalid value '${pvtSubnet}' for --private-subnet: expected an IPv4 CIDR`, 'private-subnet');
        const bgpAs = optional(opts, 'bgpAs');
        if (bgpAs !== undefined && parseAs(bgpAs) === undefined)
          throw new UsageError(`invalid value '${bgpAs}' for --bgp-as: an AS number 1..${MAX_AS}`, 'bgp-as');
        const bgpNeighbors = neighborsOption(optional(opts, 'bgpNeighbors'), '--bgp-neighbors');
        const hold = optional(opts, 'bgpHoldTime');
        const bgpHoldTime = hold === undefined ? undefined : intOption(hold, '--bgp-hold-time', 0, MIN_HOLD_TIME, MAX_HOLD_TIME);
        const ka = optional(opts, 'bgpKeepalive');
        const bgpKeepaliveTime = ka === undefined ? undefined : intOption(ka, '--bgp-keepalive', 0, 1, MAX_HOLD_TIME);
        const c = client();
        const current = asObject(await c.get('/api/v1/globals/global/'));
        await c.post(
          '/api/v1/globals/global/',
          globalBody(current, {
            networkInfraType,
            vlans,
            vxlans,
            fwdMode,
            arpMode,
            pvtSubnet,
            blockPrefix,
            bgpAs,
            bgpNeighbors,
            bgpHoldTime,
            bgpKeepaliveTime,
          }),
        );
      }),
    );
}
