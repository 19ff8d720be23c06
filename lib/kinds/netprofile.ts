/** A network profile: bandwidth, burst and DSCP for groups (key `tenant:profile`). */
import { defineKind } from './kind';

/**
 * The largest bandwidth, in kbit/s: the agent's rate (an OVS meter band's) is a 32-bit kbit/s
 * count. Bandwidth text must also come to a whole number of kbit/s, at least 1.
 */
export const MAX_BANDWIDTH_KBPS = 0xffffffff;
/** The largest burst, in kbytes (Contiv's unit): the agent's meter burst is a 32-bit kbit count. */
export const MAX_BURST_KBYTES = Math.floor(0xffffffff / 8);

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
      bandwidth: f.text('bandwidth', 32).default(''),
      burst: z
        .number({ error: 'burst must be a number (kbytes)' })
        .int({ error: 'burst must be an integer (kbytes)' })
        .min(0, { error: `burst must be between 0 and ${MAX_BURST_KBYTES} (kbytes)` })
        .max(MAX_BURST_KBYTES, { error: `burst must be between 0 and ${MAX_BURST_KBYTES} (kbytes)` })
        .default(0),
      DSCP: f.int('DSCP', 0, 63).default(0),
    }),
  references: [],
  links: { Tenant: { kind: 'tenant', field: 'tenantName' } },
  linkSets: { EndpointGroups: { kind: 'endpointGroup', namedBy: 'netProfile' } },
  netctl: {
    nameField: 'profileName',
    linkSets: true,
    links: true,
  },
});
