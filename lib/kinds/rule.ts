/** A rule of a policy (key `tenant:policy:ruleId`); deleted with its policy. */
import { defineKind } from './kind';

export const ruleKind = defineKind({
  type: 'rule',
  collection: 'rules',
  label: 'rule',
  key: ['tenantName', 'policyName', 'ruleId'],
  scope: 'tenant',
  parent: 'policy',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      policyName: f.name('policyName'),
      ruleId: z
        .string({ error: 'ruleId is required' })
        .max(64, { error: 'ruleId must be at most 64 characters' })
        .regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/, { error: 'ruleId must be letters, digits, - or _' }),
      direction: z.enum(['in', 'out'], { error: "direction must be 'in' or 'out'" }),
      // Contiv's model made 0 (Go's zero value, so also an omitted priority) its default 1
      priority: z
        .number({ error: 'priority must be a number' })
        .int({ error: 'priority must be an integer' })
        .refine((p) => p === 0 || (p >= 1 && p <= 100), { error: 'priority must be between 1 and 100 (0 means the default, 1)' })
        .default(1)
        .transform((p) => (p === 0 ? 1 : p)),
      fromEndpointGroup: f.optName('fromEndpointGroup'),
      toEndpointGroup: f.optName('toEndpointGroup'),
      fromNetwork: f.optName('fromNetwork'),
      toNetwork: f.optName('toNetwork'),
      fromIpAddress: f.text('fromIpAddress', 64).default(''),
      toIpAddress: f.text('toIpAddress', 64).default(''),
      protocol: f
        .text('protocol', 8)
        .regex(/^(tcp|udp|icmp|\d{1,3})?$/, { error: "protocol must be 'tcp', 'udp', 'icmp' or an IP protocol number" })
        .refine((p) => !/^\d+$/.test(p) || Number(p) <= 255, { error: 'protocol number must be between 0 and 255' })
        .default(''),
      port: f.int('port', 0, 65535).default(0),
      action: z.enum(['allow', 'deny'], { error: "action must be 'allow' or 'deny'" }).default('allow'),
    }),
  // Contiv let a network go while rules still matched on it; a group is kept while rules name it
  references: [
    { field: 'fromEndpointGroup', kind: 'endpointGroup', holds: true },
    { field: 'toEndpointGroup', kind: 'endpointGroup', holds: true },
    { field: 'fromNetwork', kind: 'network', holds: false },
    { field: 'toNetwork', kind: 'network', holds: false },
  ],
  links: { MatchEndpointGroup: { kind: 'endpointGroup', field: 'fromEndpointGroup|toEndpointGroup' } },
  linkSets: { Policies: { kind: 'policy', names: 'policyName' } },
  netctl: {
    nameField: 'ruleId',
    linkSets: true,
    links: true,
  },
});
