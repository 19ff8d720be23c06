/** `netctl external-contracts create|rm|ls` (REST collection `extContractsGroups`, key `tenant:name`). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addTenantLs } from '../kind-commands';
import { str as field } from '../client';
import { action, list, repeatable, str, tenantOption, type Runtime } from '../context';
import { goValue, tabwrite } from '../format';
import { extContractsBody } from '../bodies';
import { UsageError } from '../errors';
import { checkName, splitList } from '../validate';

const KIND = KINDS.extContractsGroup;

export function registerExternalContracts(program: Command, rt: Runtime): void {
  const ec = program.command('external-contracts').description('External contracts');

  addTenantLs(ec, rt, KIND, {
    description: 'List external contracts',
    table: (items) =>
      tabwrite(
        'Tenant\tName\t\tType\t\tContracts\n------\t------\t\t------\t\t-------\n' +
          items
            .map(
              (g) =>
                `${field(g, 'tenantName')}\t${field(g, 'contractsGroupName')}\t\t${field(g, 'contractsType')}\t${goValue(g['contracts'] ?? [])}\n`,
            )
            .join(''),
      ),
  });

  tenantOption(ec.command('rm').alias('delete').description('Delete external contracts').argument('[contracts-group]')).action(
    action(rt, { min: 1, max: 1, missing: 'Contracts group name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'contracts group');
      const c = client();
      out(`Deleting external contracts group ${name} in tenant ${tenant}\n`);
      await c.delete(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
    }),
  );

  tenantOption(ec.command('create').description('Create external contracts').argument('[contracts-group]'))
    .option('-c, --consumed', 'External contracts type - consumed')
    .option('-p, --provided', 'External contracts type - provided')
    .addOption(repeatable('-a, --contract <dn>', 'Contract (repeat or separate with commas)'))
    .action(
      action(rt, { min: 1, max: 1, missing: 'Contracts group name required' }, async ({ args, opts, client, out }) => {
        const provided = opts['provided'] === true;
        const consumed = opts['consumed'] === true;
        if (provided && consumed) throw new UsageError('Cannot use both provided and consumed', 'provided');
        if (!provided && !consumed) throw new UsageError('Either provided or consumed must be specified', 'provided');
        const tenant = checkName(str(opts, 'tenant'), 'tenant');
        const contracts = splitList(list(opts, 'contract'));
        if (contracts.length === 0) throw new UsageError('Contracts not provided', 'contract');
        const name = checkName(args[0], 'contracts group');
        await client().post(
          `/api/v1/${KIND.collection}/${tenant}:${name}/`,
          extContractsBody(tenant, name, provided ? 'provided' : 'consumed', contracts),
        );
        out(`Creating ExternalContracts ${tenant}:${name}\n`);
      }),
    );
}
