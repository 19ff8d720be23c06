/** The ACI gateway settings, one object (key `aciGw`): what netmaster/aci sends the APIC (docs/aci.md). */
import { defineKind } from './kind';

export const aciGwKind = defineKind({
  type: 'aciGw',
  collection: 'aciGws',
  label: 'aciGw',
  key: ['name'],
  scope: 'global',
  schema: (z, f) => {
    const yesNo = (what: string) => z.enum(['yes', 'no', ''], { error: `${what} must be 'yes' or 'no'` }).default('no');
    return z.object({
      ...f.placeholders,
      name: z.literal('aciGw', { error: "name must be 'aciGw'" }).default('aciGw'),
      pathBindings: f.text('pathBindings', 1024).default(''),
      nodeBindings: f.text('nodeBindings', 1024).default(''),
      physicalDomain: f.text('physicalDomain').default(''),
      enforcePolicies: yesNo('enforcePolicies'),
      includeCommonTenant: yesNo('includeCommonTenant'),
    });
  },
  references: [],
  netctl: {
    nameField: 'name',
    linkSets: false,
    links: false,
  },
});
