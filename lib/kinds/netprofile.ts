/** A network profile: bandwidth, burst and DSCP for groups (key `tenant:profile`). */
import { defineKind } from './kind';

export const netprofileKind = defineKind({
  type: 'netprofile',
  collection: 'netprofiles',
  label: 'netprofile',
  key: ['tenantName', 'profileName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      profileName: f.name('profileName'),
      bandwidth: z.string().default(''),
      burst: f.int('burst', 0, 2 ** 31 - 1).default(0),
      DSCP: f.int('DSCP', 0, 63).default(0),
    }),
  references: [],
  links: { Tenant: { kind: 'tenant', field: 'tenantName' } },
  netctl: {
    nameField: 'profileName',
    linkSets: true,
    links: true,
  },
});
