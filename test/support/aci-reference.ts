/**
 * The reference intent of issue 21 (2 tenants, 3 networks, 4 groups, 2 app profiles, allow and
 * deny rules, an external contracts group) and, written by hand from the ACI object model, the
 * APIC tree it must become. Shared by the desired-tree unit test and the integration test.
 */
import type { AciIntent } from '../../netmaster/aci/desired-tree';
import type { AciGw, AppProfile, EndpointGroup, ExtContractsGroup, Network, Rule } from '../../netmaster/model/schemas';

export const REF_GW: AciGw = {
  name: 'aciGw',
  pathBindings: 'topology/pod-1/paths-101/pathep-[eth1/14]',
  nodeBindings: 'topology/pod-1/node-102',
  physicalDomain: 'acDom',
  enforcePolicies: 'yes',
  includeCommonTenant: 'no',
};

const net = (tenantName: string, networkName: string, pktTag: number, subnet: string, gateway: string): Network =>
  ({ tenantName, networkName, encap: 'vlan', pktTag, subnet, gateway, nwType: 'data' }) as Network;
/** The global VLAN pool of the reference (networkInfraType aci): networks and groups share it. */
export const REF_VLANS = '100-300';

export const REF_NETWORKS: Network[] = [
  net('acA', 'web-net', 101, '10.1.1.0/24', '10.1.1.1'),
  net('acA', 'db-net', 102, '10.1.2.0/24', '10.1.2.1'),
  net('acB', 'app-net', 201, '10.2.0.0/16', '10.2.0.1'),
];

const group = (
  tenantName: string,
  groupName: string,
  networkName: string,
  policies: string[],
  extContractsGrps: string[] = [],
): EndpointGroup =>
  ({ tenantName, groupName, networkName, policies, extContractsGrps, ipPool: '', netProfile: '', cfgdTag: '' }) as EndpointGroup;
export const REF_GROUPS: EndpointGroup[] = [
  group('acA', 'web', 'web-net', ['web-pol']),
  group('acA', 'db', 'db-net', ['db-pol'], ['ext']),
  group('acB', 'front', 'app-net', []),
  group('acB', 'back', 'app-net', ['back-pol']),
];

/**
 * Each group's own VLAN, written by hand: created in ACI mode in REF_GROUPS' order after the
 * networks by a netmaster that has allocated no VLAN yet, each takes the lowest free VLAN of
 * REF_VLANS, passing over the networks' 101 and 102.
 * front and back share a network, not a VLAN.
 */
export const REF_GROUP_VLANS: Record<string, number> = { 'acA:web': 100, 'acA:db': 103, 'acB:front': 104, 'acB:back': 105 };

const rule = (r: Partial<Rule> & Pick<Rule, 'tenantName' | 'policyName' | 'ruleId' | 'direction'>): Rule =>
  ({
    priority: 1,
    fromEndpointGroup: '',
    toEndpointGroup: '',
    fromNetwork: '',
    toNetwork: '',
    fromIpAddress: '',
    toIpAddress: '',
    protocol: '',
    port: 0,
    action: 'allow',
    ...r,
  }) as Rule;
export const REF_RULES: Rule[] = [
  rule({
    tenantName: 'acA',
    policyName: 'db-pol',
    ruleId: '1',
    direction: 'in',
    fromEndpointGroup: 'web',
    protocol: 'tcp',
    port: 5432,
    priority: 2,
  }),
  rule({ tenantName: 'acA', policyName: 'db-pol', ruleId: '2', direction: 'in', action: 'deny' }),
  rule({ tenantName: 'acA', policyName: 'web-pol', ruleId: '1', direction: 'out', toEndpointGroup: 'db', protocol: 'tcp', port: 443 }),
  rule({ tenantName: 'acB', policyName: 'back-pol', ruleId: '1', direction: 'in', fromEndpointGroup: 'front', protocol: 'icmp' }),
];

export const REF_APP_PROFILES: AppProfile[] = [
  { tenantName: 'acA', appProfileName: 'app1', endpointGroups: ['web', 'db'] } as AppProfile,
  { tenantName: 'acB', appProfileName: 'app2', endpointGroups: ['front', 'back'] } as AppProfile,
];

export const REF_EXT_CONTRACTS: ExtContractsGroup[] = [
  {
    tenantName: 'acA',
    contractsGroupName: 'ext',
    contractsType: 'consumed',
    contracts: ['uni/tn-common/brc-shared-svc'],
  } as ExtContractsGroup,
];

const PATH = 'topology/pod-1/paths-101/pathep-[eth1/14]';
const NODE = 'topology/pod-1/node-102';

/** [dn, class, properties without the annotation every object carries] */
export const REF_EXPECTED: Record<string, Array<[string, string, Record<string, string>]>> = {
  acA: [
    ['uni/tn-acA', 'fvTenant', { name: 'acA' }],
    ['uni/tn-acA/ctx-netloom', 'fvCtx', { name: 'netloom', pcEnfPref: 'enforced' }],
    ['uni/tn-acA/BD-web-net', 'fvBD', { name: 'web-net' }],
    ['uni/tn-acA/BD-web-net/rsctx', 'fvRsCtx', { tnFvCtxName: 'netloom' }],
    ['uni/tn-acA/BD-web-net/subnet-[10.1.1.1/24]', 'fvSubnet', { ip: '10.1.1.1/24', scope: 'private' }],
    ['uni/tn-acA/BD-db-net', 'fvBD', { name: 'db-net' }],
    ['uni/tn-acA/BD-db-net/rsctx', 'fvRsCtx', { tnFvCtxName: 'netloom' }],
    ['uni/tn-acA/BD-db-net/subnet-[10.1.2.1/24]', 'fvSubnet', { ip: '10.1.2.1/24', scope: 'private' }],
    ['uni/tn-acA/ap-app1', 'fvAp', { name: 'app1' }],
    ['uni/tn-acA/ap-app1/epg-web', 'fvAEPg', { name: 'web' }],
    ['uni/tn-acA/ap-app1/epg-web/rsbd', 'fvRsBd', { tnFvBDName: 'web-net' }],
    [`uni/tn-acA/ap-app1/epg-web/rspathAtt-[${PATH}]`, 'fvRsPathAtt', { tDn: PATH, encap: 'vlan-100', instrImedcy: 'immediate' }],
    [`uni/tn-acA/ap-app1/epg-web/rsnodeAtt-[${NODE}]`, 'fvRsNodeAtt', { tDn: NODE, encap: 'vlan-100', instrImedcy: 'immediate' }],
    ['uni/tn-acA/ap-app1/epg-web/rsdomAtt-[uni/phys-acDom]', 'fvRsDomAtt', { tDn: 'uni/phys-acDom' }],
    ['uni/tn-acA/ap-app1/epg-web/rscons-web-pol-1', 'fvRsCons', { tnVzBrCPName: 'web-pol-1' }],
    ['uni/tn-acA/ap-app1/epg-web/rscons-db-pol-1', 'fvRsCons', { tnVzBrCPName: 'db-pol-1' }],
    ['uni/tn-acA/ap-app1/epg-db', 'fvAEPg', { name: 'db' }],
    ['uni/tn-acA/ap-app1/epg-db/rsbd', 'fvRsBd', { tnFvBDName: 'db-net' }],
    [`uni/tn-acA/ap-app1/epg-db/rspathAtt-[${PATH}]`, 'fvRsPathAtt', { tDn: PATH, encap: 'vlan-103', instrImedcy: 'immediate' }],
    [`uni/tn-acA/ap-app1/epg-db/rsnodeAtt-[${NODE}]`, 'fvRsNodeAtt', { tDn: NODE, encap: 'vlan-103', instrImedcy: 'immediate' }],
    ['uni/tn-acA/ap-app1/epg-db/rsdomAtt-[uni/phys-acDom]', 'fvRsDomAtt', { tDn: 'uni/phys-acDom' }],
    ['uni/tn-acA/ap-app1/epg-db/rscons-shared-svc', 'fvRsCons', { tnVzBrCPName: 'shared-svc' }],
    ['uni/tn-acA/ap-app1/epg-db/rsprov-db-pol-1', 'fvRsProv', { tnVzBrCPName: 'db-pol-1' }],
    ['uni/tn-acA/ap-app1/epg-db/rsprov-web-pol-1', 'fvRsProv', { tnVzBrCPName: 'web-pol-1' }],
    ['uni/tn-acA/flt-web-pol-1', 'vzFilter', { name: 'web-pol-1' }],
    ['uni/tn-acA/flt-web-pol-1/e-tcp-443', 'vzEntry', { name: 'tcp-443', etherT: 'ip', prot: 'tcp', dFromPort: '443', dToPort: '443' }],
    ['uni/tn-acA/brc-web-pol-1', 'vzBrCP', { name: 'web-pol-1', scope: 'context' }],
    ['uni/tn-acA/brc-web-pol-1/subj-allow', 'vzSubj', { name: 'allow', revFltPorts: 'yes' }],
    ['uni/tn-acA/brc-web-pol-1/subj-allow/rssubjFiltAtt-web-pol-1', 'vzRsSubjFiltAtt', { tnVzFilterName: 'web-pol-1' }],
    ['uni/tn-acA/flt-db-pol-1', 'vzFilter', { name: 'db-pol-1' }],
    ['uni/tn-acA/flt-db-pol-1/e-tcp-5432', 'vzEntry', { name: 'tcp-5432', etherT: 'ip', prot: 'tcp', dFromPort: '5432', dToPort: '5432' }],
    ['uni/tn-acA/brc-db-pol-1', 'vzBrCP', { name: 'db-pol-1', scope: 'context' }],
    ['uni/tn-acA/brc-db-pol-1/subj-allow', 'vzSubj', { name: 'allow', revFltPorts: 'yes' }],
    ['uni/tn-acA/brc-db-pol-1/subj-allow/rssubjFiltAtt-db-pol-1', 'vzRsSubjFiltAtt', { tnVzFilterName: 'db-pol-1' }],
  ],
  acB: [
    ['uni/tn-acB', 'fvTenant', { name: 'acB' }],
    ['uni/tn-acB/ctx-netloom', 'fvCtx', { name: 'netloom', pcEnfPref: 'enforced' }],
    ['uni/tn-acB/BD-app-net', 'fvBD', { name: 'app-net' }],
    ['uni/tn-acB/BD-app-net/rsctx', 'fvRsCtx', { tnFvCtxName: 'netloom' }],
    ['uni/tn-acB/BD-app-net/subnet-[10.2.0.1/16]', 'fvSubnet', { ip: '10.2.0.1/16', scope: 'private' }],
    ['uni/tn-acB/ap-app2', 'fvAp', { name: 'app2' }],
    ['uni/tn-acB/ap-app2/epg-front', 'fvAEPg', { name: 'front' }],
    ['uni/tn-acB/ap-app2/epg-front/rsbd', 'fvRsBd', { tnFvBDName: 'app-net' }],
    [`uni/tn-acB/ap-app2/epg-front/rspathAtt-[${PATH}]`, 'fvRsPathAtt', { tDn: PATH, encap: 'vlan-104', instrImedcy: 'immediate' }],
    [`uni/tn-acB/ap-app2/epg-front/rsnodeAtt-[${NODE}]`, 'fvRsNodeAtt', { tDn: NODE, encap: 'vlan-104', instrImedcy: 'immediate' }],
    ['uni/tn-acB/ap-app2/epg-front/rsdomAtt-[uni/phys-acDom]', 'fvRsDomAtt', { tDn: 'uni/phys-acDom' }],
    ['uni/tn-acB/ap-app2/epg-front/rscons-back-pol-1', 'fvRsCons', { tnVzBrCPName: 'back-pol-1' }],
    ['uni/tn-acB/ap-app2/epg-back', 'fvAEPg', { name: 'back' }],
    ['uni/tn-acB/ap-app2/epg-back/rsbd', 'fvRsBd', { tnFvBDName: 'app-net' }],
    [`uni/tn-acB/ap-app2/epg-back/rspathAtt-[${PATH}]`, 'fvRsPathAtt', { tDn: PATH, encap: 'vlan-105', instrImedcy: 'immediate' }],
    [`uni/tn-acB/ap-app2/epg-back/rsnodeAtt-[${NODE}]`, 'fvRsNodeAtt', { tDn: NODE, encap: 'vlan-105', instrImedcy: 'immediate' }],
    ['uni/tn-acB/ap-app2/epg-back/rsdomAtt-[uni/phys-acDom]', 'fvRsDomAtt', { tDn: 'uni/phys-acDom' }],
    ['uni/tn-acB/ap-app2/epg-back/rsprov-back-pol-1', 'fvRsProv', { tnVzBrCPName: 'back-pol-1' }],
    ['uni/tn-acB/flt-back-pol-1', 'vzFilter', { name: 'back-pol-1' }],
    ['uni/tn-acB/flt-back-pol-1/e-icmp', 'vzEntry', { name: 'icmp', etherT: 'ip', prot: 'icmp' }],
    ['uni/tn-acB/brc-back-pol-1', 'vzBrCP', { name: 'back-pol-1', scope: 'context' }],
    ['uni/tn-acB/brc-back-pol-1/subj-allow', 'vzSubj', { name: 'allow', revFltPorts: 'yes' }],
    ['uni/tn-acB/brc-back-pol-1/subj-allow/rssubjFiltAtt-back-pol-1', 'vzRsSubjFiltAtt', { tnVzFilterName: 'back-pol-1' }],
  ],
};

/** The reference intent as the gateway reads it (each network's VLAN is its pktTag, each group's its REF_GROUP_VLANS). */
export const REF_INTENT: AciIntent = {
  gw: REF_GW,
  networks: REF_NETWORKS.map((network) => ({ network, vlan: network.pktTag })),
  groups: REF_GROUPS.map((group) => ({ group, vlan: REF_GROUP_VLANS[`${group.tenantName}:${group.groupName}`] })),
  rules: REF_RULES,
  appProfiles: REF_APP_PROFILES,
  extContractsGroups: REF_EXT_CONTRACTS,
};
