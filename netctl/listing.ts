/**
 * How Contiv's netctl listed objects: tenant-scoped ones by checking that the tenant exists (GET
 * /api/v1/tenants/<t>/), listing the whole collection and filtering on the client by tenantName
 * (`-a` keeps every tenant and skips the check); the `ls` table from the kind's declared columns;
 * `-q` as one name per line.
 */
import type { KindDescriptor } from '../lib/kinds';
import { asList, str, type JsonObject, type NetmasterClient } from './client';
import { cellText, goInt, tabwrite } from './format';
import { checkName } from './validate';

export async function listTenantScoped(client: NetmasterClient, collection: string, tenant: string, all: boolean): Promise<JsonObject[]> {
  if (!all) {
    checkName(tenant, 'tenant');
    await client.get(`/api/v1/tenants/${tenant}/`);
  }
  const items = asList(await client.get(`/api/v1/${collection}/`));
  return all ? items : items.filter((o) => o['tenantName'] === tenant);
}

/** `names` for -q: one name per line. */
export function nameLines(items: JsonObject[], field: string): string {
  return items.map((o) => `${typeof o[field] === 'string' ? o[field] : ''}\n`).join('');
}

/** The `ls` table of a kind with declared columns, laid out as Contiv's tabwriter did. */
export function kindTable(kind: KindDescriptor, items: JsonObject[]): string {
  const columns = kind.netctl.columns ?? [];
  const end = kind.netctl.trailingTab === true ? '\t\n' : '\n';
  const cell = (o: JsonObject, c: (typeof columns)[number]): string => {
    const v = o[c.field];
    if (c.format === 'int') return goInt(v);
    if (c.format === 'list') return Array.isArray(v) ? cellText(v.map(String).join(',')) : '';
    if (c.format === 'bool') return v === true ? 'true' : 'false';
    if (c.format === 'count') return Array.isArray(v) ? String(v.length) : '0';
    if (c.format === 'labels')
      return typeof v === 'object' && v !== null && !Array.isArray(v)
        ? cellText(
            Object.entries(v)
              .map(([k, x]) => `${k}=${String(x)}`)
              .join(','),
          )
        : '';
    return cellText(str(o, c.field));
  };
  const lines = [columns.map((c) => c.header), columns.map((c) => c.underline), ...items.map((o) => columns.map((c) => cell(o, c)))];
  return tabwrite(lines.map((l) => l.join('\t') + end).join(''));
}
