/**
 * The APIC objects netloom's intent asks for, per tenant with app profiles (pure): the tenant and
 * its VRF (fvCtx), a bridge domain per network (fvRsCtx, fvSubnet of the gateway), an fvAp per
 * app profile with an fvAEPg per group (fvRsBd, static path/node bindings with the group's own VLAN
 * as encap (model/group-tag.ts), the physical domain), the contracts of the groups' policy rules (rule-contracts.ts),
 * the external contracts groups' links, or in unenforced mode the common tenant's default
 * contract for every EPG. Every object is annotated as netloom's (mo.ts).
 */
import { NetloomError, errorMessage } from '../../lib/errors';
import type { AciGw, AppProfile, EndpointGroup, ExtContractsGroup, Network, Rule } from '../model/schemas';
import { gwSettings, type GwSettings } from './gw-settings';
import { OWNER_ANNOTATION, rnOf, type FlatTree } from './mo';
import { ruleContract, type RuleContract } from './rule-contracts';

export interface AciIntent {
  gw: AciGw;
  /** every network, with the VLAN it uses (undefined: not a VLAN network) */
  networks: ReadonlyArray<{ network: Network; vlan: number | undefined }>;
  /** every group, with its VLAN of its own (undefined: none, or not allocated yet) */
  groups: ReadonlyArray<{ group: EndpointGroup; vlan: number | undefined }>;
  /** why a group has no VLAN of its own (model/vlan-pool.ts: being allocated, or the pool exhausted) */
  missingVlanReason?: string;
  rules: readonly Rule[];
  appProfiles: readonly AppProfile[];
  extContractsGroups: readonly ExtContractsGroup[];
}

/** The VRF netloom makes in each tenant (without includeCommonTenant). */
export const CTX_NAME = 'netloom';
/** The subject of every rule's contract. */
export const SUBJECT_NAME = 'allow';
const EXT_CONTRACT_DN = /^uni\/tn-([a-zA-Z0-9_.:-]{1,64})\/brc-([a-zA-Z0-9_.:-]{1,64})$/;

export type TenantTree = { tree: FlatTree; error?: undefined } | { tree?: undefined; error: NetloomError };

class TreeBuilder {
  readonly tree: FlatTree = new Map();
  add(parent: string, cls: string, attrs: Record<string, string>): string {
    const dn = parent === '' ? `uni/${rnOf(cls, attrs)}` : `${parent}/${rnOf(cls, attrs)}`;
    this.tree.set(dn, { cls, attrs: { ...attrs, annotation: OWNER_ANNOTATION } });
    return dn;
  }
}

/** One external contract DN as a link: only the tenant's own contracts and the common tenant's resolve by name. */
export function extContractName(dn: string, tenant: string, where: string): string {
  const m = EXT_CONTRACT_DN.exec(dn);
  if (!m || (m[1] !== tenant && m[1] !== 'common'))
    throw new NetloomError('INVALID_ARGUMENT', `${where}: '${dn}' must be uni/tn-${tenant}/brc-NAME or uni/tn-common/brc-NAME`, {
      field: 'contracts',
    });
  return m[2] ?? '';
}

function tenantTree(tenant: string, s: GwSettings, intent: AciIntent): FlatTree {
  const b = new TreeBuilder();
  const tn = b.add('', 'fvTenant', { name: tenant });
  if (!s.includeCommonTenant) b.add(tn, 'fvCtx', { name: CTX_NAME, pcEnfPref: s.enforce ? 'enforced' : 'unenforced' });
  const networks = intent.networks.filter((n) => n.network.tenantName === tenant);
  for (const { network } of networks) {
    const bd = b.add(tn, 'fvBD', { name: network.networkName });
    // with includeCommonTenant the name 'default' resolves to the common tenant's VRF
    b.add(bd, 'fvRsCtx', { tnFvCtxName: s.includeCommonTenant ? 'default' : CTX_NAME });
    const prefix = network.subnet.split('/')[1];
    if (network.gateway && prefix) b.add(bd, 'fvSubnet', { ip: `${network.gateway}/${prefix}`, scope: 'private' });
  }
  const groups = new Map(intent.groups.filter((g) => g.group.tenantName === tenant).map((g) => [g.group.groupName, g.group]));
  const groupVlans = new Map(intent.groups.filter((g) => g.group.tenantName === tenant).map((g) => [g.group.groupName, g.vlan]));
  const profiles = intent.appProfiles
    .filter((a) => a.tenantName === tenant)
    .sort((a, b) => a.appProfileName.localeCompare(b.appProfileName));
  // every EPG of a group (a group may be in several app profiles)
  const epgsOf = new Map<string, string[]>();
  for (const ap of profiles) {
    const apDn = b.add(tn, 'fvAp', { name: ap.appProfileName });
    for (const name of ap.endpointGroups) {
      const g = groups.get(name);
      if (!g)
        throw new NetloomError('NOT_FOUND', `app profile ${tenant}:${ap.appProfileName}: group ${name} does not exist`, {
          field: 'endpointGroups',
        });
      const epg = b.add(apDn, 'fvAEPg', { name });
      epgsOf.set(name, [...(epgsOf.get(name) ?? []), epg]);
      b.add(epg, 'fvRsBd', { tnFvBDName: g.networkName });
      const bound = s.pathBindings.length > 0 || s.nodeBindings.length > 0;
      const isVlanNet = networks.find((n) => n.network.networkName === g.networkName)?.vlan !== undefined;
      if (bound && !isVlanNet)
        throw new NetloomError(
          'INVALID_ARGUMENT',
          `group ${tenant}:${name}: static bindings need a VLAN network, ${g.networkName} is not one`,
          {
            field: 'networkName',
          },
        );
      // each EPG its own VLAN: two EPGs of one bridge domain on one path cannot share an encap
      const vlan = groupVlans.get(name);
      if (bound && vlan === undefined)
        throw new NetloomError(
          'UNAVAILABLE',
          `group ${tenant}:${name}: ${intent.missingVlanReason ?? 'its VLAN of its own is not allocated yet (the leader does it)'}`,
          {
            field: 'pktTag',
          },
        );
      for (const p of s.pathBindings) b.add(epg, 'fvRsPathAtt', { tDn: p, encap: `vlan-${vlan}`, instrImedcy: 'immediate' });
      for (const n of s.nodeBindings) b.add(epg, 'fvRsNodeAtt', { tDn: n, encap: `vlan-${vlan}`, instrImedcy: 'immediate' });
      if (s.physicalDomain) b.add(epg, 'fvRsDomAtt', { tDn: `uni/phys-${s.physicalDomain}` });
      if (!s.enforce) {
        // unenforced: everything talks through the common tenant's permit-all contract
        b.add(epg, 'fvRsCons', { tnVzBrCPName: 'default' });
        b.add(epg, 'fvRsProv', { tnVzBrCPName: 'default' });
      }
      for (const cgName of g.extContractsGrps) {
        const cg = intent.extContractsGroups.find((c) => c.tenantName === tenant && c.contractsGroupName === cgName);
        if (!cg) continue;
        for (const dn of cg.contracts) {
          const c = extContractName(dn, tenant, `external contracts group ${tenant}:${cgName}`);
          b.add(epg, cg.contractsType === 'provided' ? 'fvRsProv' : 'fvRsCons', { tnVzBrCPName: c });
        }
      }
    }
  }
  if (!s.enforce) return b.tree;
  // contracts: each rule of a policy applied to a group with an EPG
  const contracts: Array<{ c: RuleContract; holders: string[] }> = [];
  for (const [name] of epgsOf) {
    const g = groups.get(name);
    for (const policy of g?.policies ?? []) {
      for (const r of intent.rules.filter((x) => x.tenantName === tenant && x.policyName === policy)) {
        const c = ruleContract(r);
        if (!c) continue;
        const key = `${c.name}`;
        const entry = contracts.find((x) => x.c.name === key);
        if (entry) entry.holders.push(name);
        else contracts.push({ c, holders: [name] });
      }
    }
  }
  for (const { c, holders } of contracts) {
    const flt = b.add(tn, 'vzFilter', { name: c.name });
    b.add(flt, 'vzEntry', c.entry);
    const brc = b.add(tn, 'vzBrCP', { name: c.name, scope: 'context' });
    const subj = b.add(brc, 'vzSubj', { name: SUBJECT_NAME, revFltPorts: 'yes' });
    b.add(subj, 'vzRsSubjFiltAtt', { tnVzFilterName: c.name });
    const [providers, consumers] = c.direction === 'in' ? [holders, [c.peerGroup]] : [[c.peerGroup], holders];
    for (const p of providers) for (const epg of epgsOf.get(p) ?? []) b.add(epg, 'fvRsProv', { tnVzBrCPName: c.name });
    for (const k of consumers) for (const epg of epgsOf.get(k) ?? []) b.add(epg, 'fvRsCons', { tnVzBrCPName: c.name });
  }
  return b.tree;
}

/**
 * The desired tree of each tenant with app profiles; a tenant whose intent ACI cannot express
 * gets the error instead (the others are unaffected). Throws when the aciGw settings are unusable.
 */
export function desiredTrees(intent: AciIntent): Map<string, TenantTree> {
  const s = gwSettings(intent.gw);
  const tenants = [...new Set(intent.appProfiles.map((a) => a.tenantName))].sort();
  const out = new Map<string, TenantTree>();
  for (const t of tenants) {
    try {
      out.set(t, { tree: tenantTree(t, s, intent) });
    } catch (e) {
      out.set(t, { error: e instanceof NetloomError ? e : new NetloomError('INTERNAL', errorMessage(e)) });
    }
  }
  return out;
}
