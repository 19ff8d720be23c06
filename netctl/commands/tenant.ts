/** `netctl tenant create|rm|ls|inspect` (REST collection `tenants`, key = tenant name). */
import type { Command } from 'commander';
import { asList, str as field } from '../client';
import { action, listOptions, outputOption, type Runtime } from '../context';
import { render, tabwrite, toJson, toYaml } from '../format';
import { tenantBody } from '../bodies';
import { checkName } from '../validate';
import { nameLines } from '../listing';

export function registerTenant(program: Command, rt: Runtime): void {
  const tenant = program.command('tenant').description('Tenant manipulation tools');

  tenant
    .command('create')
    .description('Create a tenant')
    .argument('[tenant]')
    .action(
      action(rt, { min: 1, max: 1, missing: 'Tenant name required' }, async ({ args, client, out }) => {
        const name = checkName(args[0], 'tenant');
        await client().post(`/api/v1/tenants/${name}/`, tenantBody(name));
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
        await c.delete(`/api/v1/tenants/${name}/`);
      }),
    );

  listOptions(tenant.command('ls').alias('list').description('List tenants'), { quiet: true, json: true }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const items = asList(await client().get('/api/v1/tenants/'));
      out(
        render(
          opts,
          items,
          () => tabwrite(['Name\t', '------\t', ...items.map((t) => `${field(t, 'tenantName')}\t`)].map((l) => l + '\n').join('')),
          () => nameLines(items, 'tenantName'),
        ),
      );
    }),
  );

  outputOption(tenant.command('inspect').description('Inspect a tenant').argument('[tenant]')).action(
    action(rt, { min: 1, max: 1, missing: 'Tenant name required' }, async ({ args, opts, client, out }) => {
      const name = checkName(args[0], 'tenant');
      const v = await client().get(`/api/v1/inspect/tenants/${name}/`);
      out(opts['output'] === 'yaml' ? toYaml(v) : toJson(v));
    }),
  );
}
