/**
 * A small intent world for the netmaster unit tests, and a loader that builds the validation
 * state from it exactly as the store does: only what `needs` asks for, so a check that reads
 * anything it did not declare fails with INTERNAL.
 */
import { keyOf } from '../../../netmaster/model/keys';
import type { ObjectOf, ObjectType } from '../../../netmaster/model/schemas';
import { IntentState, type Needs, type StateData, type Stored } from '../../../netmaster/model/state';
import { DEFAULT_GLOBAL } from '../../../netmaster/service/service';

export type World = { [T in ObjectType]?: Array<ObjectOf[T]> } & {
  endpointCounts?: Record<string, number>;
  tagOwners?: Record<string, string>;
  /** stored opers by `type/key` (a network's allocated tag: model/network-tag.ts) */
  opers?: Record<string, Record<string, unknown>>;
};

/** An inbound rule of priority 1 that allows TCP port 80 from one group to another ('' = any). */
export function allowTcp80Rule(
  tenantName: string,
  policyName: string,
  ruleId: string,
  fromEndpointGroup = '',
  toEndpointGroup = '',
): ObjectOf['rule'] {
  return {
    tenantName,
    policyName,
    ruleId,
    direction: 'in',
    priority: 1,
    fromEndpointGroup,
    toEndpointGroup,
    fromNetwork: '',
    toNetwork: '',
    fromIpAddress: '',
    toIpAddress: '',
    protocol: 'tcp',
    port: 80,
    action: 'allow',
  };
}

export function baseWorld(): World {
  return {
    global: [{ ...DEFAULT_GLOBAL }],
    tenant: [
      { tenantName: 'default', defaultNetwork: '' },
      { tenantName: 't1', defaultNetwork: '' },
      { tenantName: 't2', defaultNetwork: '' },
      { tenantName: 'empty', defaultNetwork: '' },
    ],
    network: [
      {
        tenantName: 't1',
        networkName: 'n1',
        nwType: 'data',
        encap: 'vxlan',
        pktTag: 100,
        subnet: '10.1.1.0/24',
        gateway: '10.1.1.1',
        ipv6Subnet: '',
        ipv6Gateway: '',
        cfgdTag: '',
        nat: true,
      },
      {
        tenantName: 't1',
        networkName: 'n2',
        nwType: 'data',
        encap: 'vlan',
        pktTag: 10,
        subnet: '10.1.2.0/24',
        gateway: '',
        ipv6Subnet: '2001:db8:1::/64',
        ipv6Gateway: '',
        cfgdTag: '',
        nat: true,
      },
      {
        tenantName: 't1',
        networkName: 'empty-net',
        nwType: 'data',
        encap: 'vlan',
        pktTag: 11,
        subnet: '10.1.9.0/24',
        gateway: '',
        ipv6Subnet: '',
        ipv6Gateway: '',
        cfgdTag: '',
        nat: true,
      },
    ],
    endpointGroup: [
      {
        tenantName: 't1',
        groupName: 'g1',
        networkName: 'n1',
        ipPool: '',
        policies: ['p1'],
        netProfile: 'prof1',
        extContractsGrps: ['ext1'],
        cfgdTag: '',
      },
      {
        tenantName: 't1',
        groupName: 'g2',
        networkName: 'n1',
        ipPool: '10.1.1.10-10.1.1.20',
        policies: [],
        netProfile: '',
        extContractsGrps: [],
        cfgdTag: '',
      },
    ],
    policy: [
      { tenantName: 't1', policyName: 'p1' },
      { tenantName: 't1', policyName: 'p2' },
    ],
    rule: [allowTcp80Rule('t1', 'p2', '1', 'g2')],
    netprofile: [{ tenantName: 't1', profileName: 'prof1', bandwidth: '10mbps', burst: 0, DSCP: 0 }],
    extContractsGroup: [{ tenantName: 't1', contractsGroupName: 'ext1', contractsType: 'provided', contracts: [] }],
    appProfile: [],
    endpointCounts: { 'net:t1:n1': 3, 'grp:t1:g1': 2 },
    tagOwners: { 'vxlan:100': 't1:n1', 'vlan:10': 't1:n2', 'vlan:11': 't1:empty-net' },
  };
}

/** The state the store would load for `needs` from `world`. */
export function loadFromWorld(world: World, needs: Needs): IntentState {
  const items = (type: ObjectType) => ((world[type] ?? []) as object[]).map((o) => [keyOf(type, o as never), o] as const);
  const stored = (type: ObjectType, key: string, o: object): Stored<unknown> => {
    const oper = world.opers?.[`${type}/${key}`];
    return { obj: o, modRevision: '7', ...(oper ? { oper } : {}) };
  };
  const data: StateData = {
    ranges: needs.ranges.map((r) => ({
      type: r.type,
      prefix: r.prefix,
      items: new Map(
        items(r.type)
          .filter(([k]) => k.startsWith(r.prefix))
          .map(([k, o]) => [k, stored(r.type, k, o)]),
      ),
    })),
    keys: needs.keys.map((k) => {
      const found = items(k.type).find(([key]) => key === k.key);
      return { type: k.type, key: k.key, item: found ? stored(k.type, k.key, found[1]) : undefined };
    }),
    endpointCounts: new Map(needs.endpointCounts.map((c) => [`${c.kind}:${c.key}`, world.endpointCounts?.[`${c.kind}:${c.key}`] ?? 0])),
    tagOwners: new Map(needs.tags.map((t) => [`${t.encap}:${t.tag}`, world.tagOwners?.[`${t.encap}:${t.tag}`]])),
  };
  return new IntentState(data);
}
