/** `netctl net|network create|rm|ls|inspect` (REST collection `networks`, key `tenant:network`). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addInspect, addTenantLs } from '../kind-commands';
import { action, addFlagAlias, str, tenantOption, type Runtime } from '../context';
import { networkBody } from '../bodies';
import { networkTable } from '../realization-tables';
import { UsageError } from '../errors';
import { checkName, intOption, isIP, isIPv4Subnet, isIPv6, isIPv6Cidr, oneOf } from '../validate';

const KIND = KINDS.network;

export function registerNetwork(program: Command, rt: Runtime): void {
  const net = program.command('network').alias('net').description('Network manipulation tools');

  addTenantLs(net, rt, KIND, { description: 'List networks' });

  addInspect(net, rt, KIND, {
    description: 'Inspect a Network (-o table: its address blocks per host and their use)',
    argument: '[network]',
    missing: 'Network name required',
    what: 'network',
    table: networkTable,
  });

  tenantOption(net.command('rm').alias('delete').description('Delete a network').argument('[network]')).action(
    action(rt, { min: 1, max: 1, missing: 'Network name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'network');
      const c = client();
      out(`Deleting network ${tenant}:${name}\n`);
      await c.delete(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
    }),
  );

  const create = tenantOption(net.command('create').description('Create a network').argument('[network]'))
    .option('-n, --nw-type <type>', 'Network Type (infra or data)', 'data')
    .option('-e, --encap <encap>', 'Encap type (vlan, vxlan, or bgp: routed and announced by BGP, docs/bgp.md)', 'vxlan')
    .option('-p, --pkt-tag <tag>', 'Packet tag (Vlan ID/VNI; none for bgp)')
    .option('-s, --subnet <cidr>', 'Subnet CIDR - REQUIRED')
    .option('-g, --gateway <ip>', 'Gateway')
    .option('--subnetv6 <cidr>', 'IPv6 Subnet CIDR (also -s6)')
    .option('--gatewayv6 <ip>', 'IPv6 Gateway (also -g6)')
    .option('--tag <tag>', 'Configured Network Tag (also --nw-tag)')
    .option('--no-nat', "do not masquerade the network's traffic leaving the host (the fabric routes its subnet)")
    .option('--block-prefix <len>', 'prefix length of the address blocks hosts claim (16..30; default: the global setting, 26)');
  addFlagAlias(create, 's6', 'subnetv6');
  addFlagAlias(create, 'g6', 'gatewayv6');
  addFlagAlias(create, 'nw-tag', 'tag');
  create.action(
    action(rt, { min: 1, max: 1, missing: 'Network name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'network');
      const subnet = str(opts, 'subnet');
      const gateway = str(opts, 'gateway');
      const subnetv6 = str(opts, 'subnetv6');
      const gatewayv6 = str(opts, 'gatewayv6');
      if (subnet === '') throw new UsageError('Subnet is required', 'subnet');
      if (!isIPv4Subnet(subnet)) throw new UsageError(`Invalid subnet '${subnet}' - Enter in A.B.C.D/len format`, 'subnet');
      if (gateway !== '' && !isIP(gateway)) throw new UsageError('Invalid gateway - Enter in A.B.C.D format', 'gateway');
      if (subnetv6 !== '' && !isIPv6Cidr(subnetv6)) throw new UsageError(`Invalid IPv6 subnet '${subnetv6}'`, 'subnetv6');
      if (gatewayv6 !== '' && !isIPv6(gatewayv6)) throw new UsageError('Invalid IPv6 gateway ', 'gatewayv6');
      const encap = oneOf(str(opts, 'encap'), '--encap', ['vlan', 'vxlan', 'bgp']) ?? '';
      const nwType = oneOf(str(opts, 'nwType'), '--nw-type', ['infra', 'data']) ?? '';
      const pktTag = intOption(opts['pktTag'] as string | undefined, '--pkt-tag', 0, 0, 16_777_215);
      // Contiv's body as it was; `nat` only when turned off (netloom's default is on)
      const noNat = opts['nat'] === false ? { nat: false } : {};
      const bp = opts['blockPrefix'] as string | undefined;
      const blockPrefix = bp === undefined ? {} : { blockPrefix: intOption(bp, '--block-prefix', 0, 16, 30) };
      await client().post(`/api/v1/${KIND.collection}/${tenant}:${name}/`, {
        ...networkBody({
          tenantName: tenant,
          networkName: name,
          encap,
          subnet,
          gateway,
          ipv6Subnet: subnetv6,
          ipv6Gateway: gatewayv6,
          pktTag,
          nwType,
          cfgdTag: str(opts, 'tag'),
        }),
        ...noNat,
        ...blockPrefix,
      });
      out(`Creating network ${tenant}:${name}\n`);
    }),
  );
}
