/**
 * `netctl endpoint register|unregister|registered`: workloads that are not containers (a
 * bare-metal server, a VM) on a VLAN network, as external endpoints (REST collection
 * `externalEndpoints`, key `tenant:name`). Registering takes the address out of the network's
 * allocator; unregistering gives it back.
 */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { contivBody } from '../bodies';
import { action, listOptions, str, tenantOption, type Runtime } from '../context';
import { render } from '../format';
import { kindTable, listTenantScoped, nameLines } from '../listing';
import { UsageError } from '../errors';
import { checkName, isIPv4 } from '../validate';

const KIND = KINDS.externalEndpoint;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function addExternalEndpointCommands(endpoint: Command, rt: Runtime): void {
  tenantOption(
    endpoint
      .command('register')
      .description('Register a workload that is not a container (bare metal, a VM) on a VLAN network')
      .argument('[name]'),
  )
    .option('-n, --network <network>', 'its VLAN network')
    .option('-g, --group <group>', 'its endpoint group (policy names it as a member)')
    .option('--ip <ip>', 'its IPv4 address (taken out of the network allocator)')
    .option('--mac <mac>', 'its MAC address')
    .action(
      action(rt, { min: 1, max: 1, missing: 'Endpoint name required' }, async ({ args, opts, client, out }) => {
        const tenant = checkName(str(opts, 'tenant') || 'default', 'tenant');
        const name = checkName(args[0], 'endpoint');
        const network = checkName(str(opts, 'network') || undefined, 'network');
        const group = str(opts, 'group');
        if (group !== '') checkName(group, 'group');
        const ip = str(opts, 'ip');
        if (!isIPv4(ip)) throw new UsageError(`invalid value '${ip}' for --ip: an IPv4 address is required`, 'ip');
        const mac = str(opts, 'mac');
        if (!MAC_RE.test(mac)) throw new UsageError(`invalid value '${mac}' for --mac: a MAC like 02:00:00:00:00:01 is required`, 'mac');
        await client().post(
          `/api/v1/${KIND.collection}/${tenant}:${name}/`,
          contivBody(KIND, {
            tenantName: tenant,
            endpointName: name,
            networkName: network,
            groupName: group,
            ipAddress: ip,
            macAddress: mac,
          }),
        );
        out(`Registering external endpoint ${tenant}:${name} (${ip}, ${mac.toLowerCase()})\n`);
      }),
    );

  tenantOption(
    endpoint.command('unregister').description('Unregister an external endpoint (its address is free again)').argument('[name]'),
  ).action(
    action(rt, { min: 1, max: 1, missing: 'Endpoint name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant') || 'default', 'tenant');
      const name = checkName(args[0], 'endpoint');
      out(`Unregistering external endpoint ${tenant}:${name}\n`);
      await client().delete(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
    }),
  );

  listOptions(endpoint.command('registered').description('List external endpoints'), {
    tenant: true,
    all: true,
    json: true,
    quiet: true,
  }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const items = await listTenantScoped(client(), KIND.collection, str(opts, 'tenant'), opts['all'] === true);
      out(
        render(
          opts,
          items,
          () => kindTable(KIND, items),
          () => nameLines(items, KIND.netctl.nameField),
        ),
      );
    }),
  );
}
