/**
 * The `inspect` and `ls` subcommands that are the same for every kind but for their words:
 * inspect GETs `/api/v1/inspect/<collection>/<key>/` (the key `tenant:name` for tenant-scoped
 * kinds) and prints JSON or YAML; ls of a tenant-scoped kind lists the tenant's objects (or all
 * with -a) as the kind's table, JSON, YAML or names.
 */
import type { Command } from 'commander';
import type { KindDescriptor } from '../lib/kinds';
import type { Json, JsonObject } from './client';
import { action, listOptions, outputOption, str, tenantOption, type Runtime } from './context';
import { render, toJson, toYaml } from './format';
import { kindTable, listTenantScoped, nameLines } from './listing';
import { checkName } from './validate';

export interface InspectWords {
  description: string;
  /** the positional argument, e.g. `[network]` */
  argument: string;
  /** the message when it is missing (Contiv's) */
  missing: string;
  /** what checkName calls the argument */
  what: string;
  /** what `-o table` prints (default: the JSON, as without -o) */
  table?: (inspect: Json) => string;
}

/** `<kind> inspect [-t tenant] NAME`. */
export function addInspect(parent: Command, rt: Runtime, kind: KindDescriptor, w: InspectWords): void {
  const tenantScoped = kind.scope === 'tenant' && kind.type !== 'tenant';
  const cmd = parent.command('inspect').description(w.description).argument(w.argument);
  outputOption(tenantScoped ? tenantOption(cmd) : cmd).action(
    action(rt, { min: 1, max: 1, missing: w.missing }, async ({ args, opts, client, out }) => {
      const tenant = tenantScoped ? `${checkName(str(opts, 'tenant'), 'tenant')}:` : '';
      const name = checkName(args[0], w.what);
      const v = await client().get(`/api/v1/inspect/${kind.collection}/${tenant}${name}/`);
      const output = opts['output'];
      out(output === 'yaml' ? toYaml(v) : output === 'table' && w.table ? w.table(v) : toJson(v));
    }),
  );
}

export interface ListWords {
  description: string;
  /** the tenant when -t is empty (Contiv's service commands fell back to `default`) */
  tenantFallback?: string;
  /** the table, where the kind declares no columns */
  table?: (items: JsonObject[]) => string;
}

/** `<kind> ls [-t tenant] [-a] [-j] [-q] [-o json|yaml]` for a tenant-scoped kind. */
export function addTenantLs(parent: Command, rt: Runtime, kind: KindDescriptor, w: ListWords): void {
  listOptions(parent.command('ls').alias('list').description(w.description), { tenant: true, all: true, json: true, quiet: true }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const tenant = str(opts, 'tenant') || (w.tenantFallback ?? '');
      const items = await listTenantScoped(client(), kind.collection, tenant, opts['all'] === true);
      const table = (): string => (w.table ? w.table(items) : kindTable(kind, items));
      out(render(opts, items, table, () => nameLines(items, kind.netctl.nameField)));
    }),
  );
}
