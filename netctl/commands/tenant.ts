/** `netctl tenant create|rm|ls|inspect` (REST collection `tenants`, key = tenant name). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addInspect } from '../kind-commands';
import { asList } from '../client';
import { action, listOptions, type Runtime } from '../context';
import { render } from '../format';
import { tenantBody } from '../bodies';
import { checkName } from '../validate';
import { kindTable, nameLines } from '../listing';

const KIND = KINDS.tenant;

export function registerTenant(program: Command, rt: Runtime): void {
  const tenant = program.command('tenant').description('Tenant manipulation tools');

  tenant
    .command('create')
    .description('Create a tenant')
    .argument('[tenant]')
    .action(
      action(rt, { min: 1, max: 1, missing: 'Tenant name required' }, async ({ args, client, out }) => {
        const name = checkName(args[0], 'tenant');
        await client().post(`/api/v1/${KIND.collection}/${name}/`, tenantBody(name));
        out(`Creating tenant: ${name}\n`);
      }),
    );

  tenant
    .command('rm')
    .alias('delete')
    .description('Delete a tenant')
    .argument('[tenant]')
    .action(
      action(rt, { min: 1, max: 1, missing: 'Tenant name required' }, async ({ args, client, out }) => {
        const name = checkName(args[0], 'tenant');
        const c = client();
        out(`Deleting tenant ${name}\n`);
        await c.delete(`/api/v1/${KIND.collection}/${name}/`);
      }),
    );

  listOptions(tenant.command('ls').alias('list').description('List tenants'), { quiet: true, json: true }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const items = asList(await client().get(`/api/v1/${KIND.collection}/`));
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

  addInspect(tenant, rt, KIND, { description: 'Inspect a tenant', argument: '[tenant]', missing: 'Tenant name required', what: 'tenant' });
}
