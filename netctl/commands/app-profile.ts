/** `netctl app-profile create|update|rm|ls|group-ls` (REST collection `appProfiles`, key `tenant:app`). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addTenantLs } from '../kind-commands';
import { asObject } from '../client';
import { action, listOptions, str, tenantOption, type Runtime } from '../context';
import { render } from '../format';
import { appProfileBody } from '../bodies';
import { checkName, splitList } from '../validate';

const KIND = KINDS.appProfile;

function groupsOf(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

export function registerAppProfile(program: Command, rt: Runtime): void {
  const ap = program.command('app-profile').description('Application Profile manipulation tools');

  for (const verb of ['create', 'update'] as const) {
    tenantOption(
      ap
        .command(verb)
        .description(verb === 'create' ? 'Create an application profile' : 'Update an application profile')
        .argument('[app-profile]'),
    )
      .option('-g, --group <groups>', 'Endpoint Group List (separated by commas)')
      .action(
        action(rt, { min: 1, max: 1, missing: 'Profile name required' }, async ({ args, opts, client, out }) => {
          const tenant = checkName(str(opts, 'tenant'), 'tenant');
          const name = checkName(args[0], 'app-profile');
          const groups = splitList([str(opts, 'group')]);
          for (const g of groups) checkName(g, 'group');
          await client().post(`/api/v1/${KIND.collection}/${tenant}:${name}/`, appProfileBody(tenant, name, groups));
          if (verb === 'create') out(`Creating AppProfile ${tenant}:${name}\n`);
        }),
      );
  }

  tenantOption(ap.command('rm').alias('delete').description('Delete an application profile').argument('[app-profile]')).action(
    action(rt, { min: 1, max: 1, missing: 'Profile name required' }, async ({ args, opts, client }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'app-profile');
      await client().delete(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
    }),
  );

  addTenantLs(ap, rt, KIND, { description: 'List Application Profiles' });

  listOptions(ap.command('group-ls').alias('group-list').description('List groups in an app-profile').argument('[app-profile]'), {
    tenant: true,
    all: true,
    json: true,
    quiet: true,
  }).action(
    action(rt, { min: 1, max: 1, missing: 'Profile name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'app-profile');
      const p = asObject(await client().get(`/api/v1/${KIND.collection}/${tenant}:${name}/`));
      const groups = groupsOf(p['endpointGroups']);
      out(
        render(
          opts,
          p,
          () => `${groups.join(',')}\n`,
          () => groups.map((g) => `${g}\n`).join(''),
        ),
      );
    }),
  );
}
