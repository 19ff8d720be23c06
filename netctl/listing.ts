/**
 * How Contiv's netctl listed tenant-scoped objects: check that the tenant exists (GET
 * /api/v1/tenants/<t>/), list the whole collection and filter on the client by tenantName;
 * `-a` keeps every tenant (and skips the tenant check).
 */
import { asList, type JsonObject, type NetmasterClient } from './client';
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
