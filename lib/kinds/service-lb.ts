/** A load-balanced service: selectors and ports on a network (key `tenant:service`). */
import { defineKind } from './kind';

export const serviceLBKind = defineKind({
  type: 'serviceLB',
  collection: 'serviceLBs',
  label: 'service',
  key: ['tenantName', 'serviceName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      serviceName: f.name('serviceName'),
      networkName: f.optName('networkName'),
      ipAddress: z.string().default(''),
      selectors: z.array(z.string().regex(/^[^=\s]+=[^=\s]*$/, { error: "selectors must be 'key=value'" })).default([]),
      ports: z.array(z.string().regex(/^\d{1,5}:\d{1,5}:(TCP|UDP)$/, { error: "ports must be 'svcPort:provPort:TCP|UDP'" })).default([]),
    }),
  references: [{ field: 'networkName', kind: 'network', holds: true }],
  links: { Network: { kind: 'network', field: 'networkName' }, Tenant: { kind: 'tenant', field: 'tenantName' } },
  netctl: {
    nameField: 'serviceName',
    linkSets: false,
    links: true,
  },
});
