/**
 * Contiv's object keys (`t1`, `t1:net1`, `t1:pol1:1`, `host1`, `global`), its REST collection
 * names, and parsing of request bodies into typed objects with errors naming the bad field.
 */
import type { z } from 'zod';
import { NetloomError } from '../../lib/errors';
import { validationError } from '../../lib/validation';
import { schemas, type ObjectOf, type ObjectType } from './schemas';

/** The key an object is stored and addressed under, built from its body. */
export function keyOf<T extends ObjectType>(type: T, obj: ObjectOf[T]): string {
  const o = obj as unknown as Record<string, string>;
  switch (type) {
    case 'tenant':
      return o.tenantName ?? '';
    case 'network':
      return `${o.tenantName}:${o.networkName}`;
    case 'endpointGroup':
      return `${o.tenantName}:${o.groupName}`;
    case 'policy':
      return `${o.tenantName}:${o.policyName}`;
    case 'rule':
      return `${o.tenantName}:${o.policyName}:${o.ruleId}`;
    case 'netprofile':
      return `${o.tenantName}:${o.profileName}`;
    case 'appProfile':
      return `${o.tenantName}:${o.appProfileName}`;
    case 'global':
      return 'global';
    case 'Bgp':
      return o.hostname ?? '';
    case 'aciGw':
      return 'aciGw';
    case 'serviceLB':
      return `${o.tenantName}:${o.serviceName}`;
    case 'extContractsGroup':
      return `${o.tenantName}:${o.contractsGroupName}`;
    default:
      throw new NetloomError('INTERNAL', `no key rule for ${String(type)}`);
  }
}

/** The tenant an object belongs to, or undefined for global objects (global, Bgp, aciGw). */
export function tenantOf(type: ObjectType, obj: object): string | undefined {
  if (type === 'global' || type === 'Bgp' || type === 'aciGw') return undefined;
  return (obj as { tenantName?: string }).tenantName;
}

/** REST collection name (Contiv's own plurals) to object type. */
export const COLLECTIONS: Readonly<Record<string, ObjectType>> = {
  tenants: 'tenant',
  networks: 'network',
  endpointGroups: 'endpointGroup',
  policys: 'policy',
  rules: 'rule',
  netprofiles: 'netprofile',
  appProfiles: 'appProfile',
  extContractsGroups: 'extContractsGroup',
  globals: 'global',
  aciGws: 'aciGw',
  Bgps: 'Bgp',
  serviceLBs: 'serviceLB',
};

export function collectionOf(type: ObjectType): string {
  const c = Object.entries(COLLECTIONS).find(([, t]) => t === type);
  if (!c) throw new NetloomError('INTERNAL', `no collection for ${type}`);
  return c[0];
}

/**
 * Turn zod issues into one INVALID_ARGUMENT error naming the first bad field. REST clients have
 * always seen zod's text alone as the message (the field is in `field`), so it stays that way.
 */
export function zodToError(err: z.ZodError): NetloomError {
  return validationError(err, { what: 'request body', rootField: null, message: (first) => first.reason });
}

/** Parse and default a request body as an object of `type`; throws INVALID_ARGUMENT. */
export function parseObject<T extends ObjectType>(type: T, body: unknown): ObjectOf[T] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new NetloomError('INVALID_ARGUMENT', `the body must be a JSON object describing a ${type}`);
  }
  // Go clients send null for empty slices and strings: treat null as "not given" (the default)
  const withoutNulls = Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([, v]) => v !== null));
  const r = schemas[type].safeParse(withoutNulls);
  if (!r.success) throw zodToError(r.error);
  const out = { ...(r.data as Record<string, unknown>) };
  delete out.key;
  delete out.links;
  delete out['link-sets'];
  return out as unknown as ObjectOf[T];
}

/**
 * Contiv's `links` on output: which objects this one points at, as `{type, key}` pairs
 * (empty placeholders where nothing is linked, as Contiv rendered them).
 */
export function linksOf(type: ObjectType, obj: object): Record<string, { type?: string; key?: string }> {
  const o = obj as Record<string, unknown>;
  const t = String(o.tenantName ?? '');
  const link = (lt: string, key: string) => (key ? { type: lt, key } : {});
  switch (type) {
    case 'network':
    case 'policy':
    case 'netprofile':
    case 'appProfile':
    case 'extContractsGroup':
      return { Tenant: link('tenant', t) };
    case 'endpointGroup':
      return {
        AppProfile: {},
        NetProfile: o.netProfile ? link('netprofile', `${t}:${String(o.netProfile)}`) : {},
        Network: link('network', `${t}:${String(o.networkName)}`),
        Tenant: link('tenant', t),
      };
    case 'rule': {
      const g = String(o.fromEndpointGroup || o.toEndpointGroup || '');
      return { MatchEndpointGroup: g ? link('endpointGroup', `${t}:${g}`) : {} };
    }
    case 'serviceLB':
      return { Network: o.networkName ? link('network', `${t}:${String(o.networkName)}`) : {}, Tenant: link('tenant', t) };
    default:
      return {};
  }
}
