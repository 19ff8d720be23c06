/** `netctl group create|rm|ls|inspect` (REST collection `endpointGroups`, key `tenant:group`). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addInspect, addTenantLs } from '../kind-commands';
import { action, addFlagAlias, list, repeatable, str, tenantOption, type Runtime } from '../context';
import { groupBody } from '../bodies';
import { UsageError } from '../errors';
import { checkName, isIPv4, splitList } from '../validate';
import { groupTable } from '../realization-tables';

const KIND = KINDS.endpointGroup;

export function registerGroup(program: Command, rt: Runtime): void {
  const group = program.command('group').description('Endpoint Group manipulation tools');

  const create = tenantOption(group.command('create').description('Create an endpoint group').argument('[network]').argument('[group]'))
    .addOption(repeatable('-p, --policy <policy>', 'Policy (repeat or separate with commas)'))
    .option('-n, --networkprofile <netprofile>', 'network profile')
    .addOption(repeatable('-e, --external-contract <contracts-group>', 'External contract (repeat or separate with commas)'))
    .option('-r, --ip-pool <from-to>', 'IP Address range, example 10.36.0.1-10.36.0.10')
    .option('--tag <tag>', 'Configured Group Tag (also --epg-tag)');
  addFlagAlias(create, 'epg-tag', 'tag');
  create.action(
    action(rt, { min: 2, max: 2, missing: 'Network and group name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const network = checkName(args[0], 'network');
      const name = checkName(args[1], 'group');
      const ipPool = str(opts, 'ipPool');
      if (ipPool !== '') {
        const m = /^([^-]+)-([^-]+)$/.exec(ipPool);
        if (!m || !isIPv4(m[1]!) || !isIPv4(m[2]!))
          throw new UsageError(`invalid --ip-pool '${ipPool}': expected IP_FROM-IP_TO, e.g. 10.36.0.1-10.36.0.10`, 'ip-pool');
      }
      await client().post(
        `/api/v1/${KIND.collection}/${tenant}:${name}/`,
        groupBody({
          tenantName: tenant,
          networkName: network,
          groupName: name,
          netProfile: str(opts, 'networkprofile'),
          ipPool,
          policies: splitList(list(opts, 'policy')),
          extContractsGrps: splitList(list(opts, 'externalContract')),
          cfgdTag: str(opts, 'tag'),
        }),
      );
      out(`Creating EndpointGroup ${tenant}:${name}\n`);
    }),
  );

  addInspect(group, rt, KIND, {
    description: 'Inspect a EndpointGroup',
    argument: '[group]',
    missing: 'EndpointGroup name required',
    what: 'group',
    table: groupTable,
  });

  tenantOption(group.command('rm').alias('delete').description('Delete an endpoint group').argument('[group]')).action(
    action(rt, { min: 1, max: 1, missing: 'EndpointGroup name required' }, async ({ args, opts, client }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'group');
      await client().delete(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
    }),
  );

  addTenantLs(group, rt, KIND, { description: 'List endpoint groups' });
}
