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
      ipAddress: f.text('ipAddress', 64).default(''),
      selectors: f
        .list('selectors', f.text('selectors[]').regex(/^[^=\s]+=[^=\s]*$/, { error: "selectors must be 'key=value'" }))
        .default([]),
      ports: f
        .list(
          'ports',
          f
            .text('ports[]', 32)
            .regex(/^\d{1,5}:\d{1,5}:(TCP|UDP)$/, { error: "ports must be 'svcPort:provPort:TCP|UDP'" })
            .refine((p) => p.split(':', 2).every((n) => Number(n) >= 1 && Number(n) <= 65535), {
              error: 'ports: svcPort and provPort must be between 1 and 65535',
            }),
        )
        .default([]),
    }),
  references: [{ field: 'networkName', kind: 'network', holds: true }],
  links: { Network: { kind: 'network', field: 'networkName' }, Tenant: { kind: 'tenant', field: 'tenantName' } },
  netctl: {
    nameField: 'serviceName',
    linkSets: false,
    links: true,
  },
});
