/**
 * Table-driven tests of every netmaster validation rule: each case is a request against a small
 * world and the error it must produce (code, field, message). The state each check sees is built
 * only from what the check declares it needs, as the store does, so an undeclared read fails.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { parseObject } from '../../../netmaster/model/keys';
import { checkUpsert, needsForUpsert } from '../../../netmaster/model/validate';
import { checkDelete, needsForDelete } from '../../../netmaster/model/deletes';
import { OBJECT_TYPES, type ObjectOf, type ObjectType } from '../../../netmaster/model/schemas';
import { baseWorld, loadFromWorld, type World } from './world';

interface Case {
  name: string;
  type: ObjectType;
  body: Record<string, unknown>;
  world?: (w: World) => void;
  code: string;
  field?: string;
  message: RegExp;
}

const net = (over: Record<string, unknown> = {}) => ({
  tenantName: 't1',
  networkName: 'n9',
  encap: 'vxlan',
  subnet: '10.9.0.0/16',
  ...over,
});
const grp = (over: Record<string, unknown> = {}) => ({ tenantName: 't1', groupName: 'g9', networkName: 'n1', ...over });
const rule = (over: Record<string, unknown> = {}) => ({ tenantName: 't1', policyName: 'p1', ruleId: '5', direction: 'in', ...over });

function upsert(type: ObjectType, body: unknown, world: World) {
  const obj = parseObject(type, body);
  return checkUpsert(type, obj, loadFromWorld(world, needsForUpsert(type, obj)));
}

function expectError(fn: () => unknown, c: { code: string; field?: string; message: RegExp }): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NetloomError, `expected NetloomError, got ${String(e)}`);
    assert.equal(e.code, c.code, `code (message: ${e.message})`);
    if (c.field !== undefined) assert.equal(e.field, c.field, `field (message: ${e.message})`);
    assert.match(e.message, c.message);
    return;
  }
  assert.fail('expected an error, got none');
}

const cases: Case[] = [
  // shape and ranges (schemas)
  {
    name: 'name with bad characters',
    type: 'tenant',
    body: { tenantName: 'bad_name!' },
    code: 'INVALID_ARGUMENT',
    field: 'tenantName',
    message: /DNS label/,
  },
  {
    name: 'name longer than 64',
    type: 'tenant',
    body: { tenantName: 'a'.repeat(65) },
    code: 'INVALID_ARGUMENT',
    field: 'tenantName',
    message: /at most 64/,
  },
  { name: 'name missing', type: 'policy', body: { tenantName: 't1' }, code: 'INVALID_ARGUMENT', field: 'policyName', message: /required/ },
  {
    name: 'network without subnet',
    type: 'network',
    body: { tenantName: 't1', networkName: 'x' },
    code: 'INVALID_ARGUMENT',
    field: 'subnet',
    message: /subnet is required/,
  },
  {
    name: 'bad encap',
    type: 'network',
    body: net({ encap: 'gre' }),
    code: 'INVALID_ARGUMENT',
    field: 'encap',
    message: /'vlan', 'vxlan' or 'bgp'/,
  },
  {
    name: 'bad nwType',
    type: 'network',
    body: net({ nwType: 'mgmt' }),
    code: 'INVALID_ARGUMENT',
    field: 'nwType',
    message: /infra' or 'data/,
  },
  {
    name: 'negative pktTag',
    type: 'network',
    body: net({ pktTag: -1 }),
    code: 'INVALID_ARGUMENT',
    field: 'pktTag',
    message: /between 0 and/,
  },
  {
    name: 'pktTag not a number',
    type: 'network',
    body: net({ pktTag: '100' }),
    code: 'INVALID_ARGUMENT',
    field: 'pktTag',
    message: /must be a number/,
  },
  {
    name: 'priority -1',
    type: 'rule',
    body: rule({ priority: -1 }),
    code: 'INVALID_ARGUMENT',
    field: 'priority',
    message: /between 1 and 100/,
  },
  {
    name: 'priority 2.5',
    type: 'rule',
    body: rule({ priority: 2.5 }),
    code: 'INVALID_ARGUMENT',
    field: 'priority',
    message: /integer/,
  },
  {
    name: 'priority 101',
    type: 'rule',
    body: rule({ priority: 101 }),
    code: 'INVALID_ARGUMENT',
    field: 'priority',
    message: /between 1 and 100/,
  },
  {
    name: 'port 65536',
    type: 'rule',
    body: rule({ protocol: 'tcp', port: 65536 }),
    code: 'INVALID_ARGUMENT',
    field: 'port',
    message: /between 0 and 65535/,
  },
  {
    name: 'unknown protocol',
    type: 'rule',
    body: rule({ protocol: 'sctp' }),
    code: 'INVALID_ARGUMENT',
    field: 'protocol',
    message: /tcp', 'udp', 'icmp'/,
  },
  {
    name: 'protocol number > 255',
    type: 'rule',
    body: rule({ protocol: '300' }),
    code: 'INVALID_ARGUMENT',
    field: 'protocol',
    message: /between 0 and 255/,
  },
  {
    name: 'bad direction',
    type: 'rule',
    body: rule({ direction: 'both' }),
    code: 'INVALID_ARGUMENT',
    field: 'direction',
    message: /in' or 'out/,
  },
  {
    name: 'bad action',
    type: 'rule',
    body: rule({ action: 'permit' }),
    code: 'INVALID_ARGUMENT',
    field: 'action',
    message: /allow' or 'deny/,
  },
  { name: 'bad ruleId', type: 'rule', body: rule({ ruleId: 'a b' }), code: 'INVALID_ARGUMENT', field: 'ruleId', message: /ruleId/ },
  {
    name: 'DSCP 64',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', DSCP: 64 },
    code: 'INVALID_ARGUMENT',
    field: 'DSCP',
    message: /between 0 and 63/,
  },
  {
    name: 'DSCP -1',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', DSCP: -1 },
    code: 'INVALID_ARGUMENT',
    field: 'DSCP',
    message: /between 0 and 63/,
  },
  {
    name: 'bad fwdMode',
    type: 'global',
    body: { fwdMode: 'switching' },
    code: 'INVALID_ARGUMENT',
    field: 'fwdMode',
    message: /bridge' or 'routing/,
  },
  {
    name: 'bad arpMode',
    type: 'global',
    body: { arpMode: 'none' },
    code: 'INVALID_ARGUMENT',
    field: 'arpMode',
    message: /proxy' or 'flood/,
  },
  {
    name: 'bad networkInfraType',
    type: 'global',
    body: { networkInfraType: 'k8s' },
    code: 'INVALID_ARGUMENT',
    field: 'networkInfraType',
    message: /aci-opflex/,
  },
  {
    name: 'bgp as not a number',
    type: 'Bgp',
    body: { hostname: 'h1', routerip: '50.1.1.1/24', as: 'x' },
    code: 'INVALID_ARGUMENT',
    field: 'as',
    message: /AS number/,
  },
  {
    name: 'service bad port spec',
    type: 'serviceLB',
    body: { tenantName: 't1', serviceName: 's', ports: ['80'] },
    code: 'INVALID_ARGUMENT',
    field: 'ports.0',
    message: /svcPort:provPort/,
  },
  {
    name: 'service bad selector',
    type: 'serviceLB',
    body: { tenantName: 't1', serviceName: 's', selectors: ['app'] },
    code: 'INVALID_ARGUMENT',
    field: 'selectors.0',
    message: /key=value/,
  },
  {
    name: 'contracts bad type',
    type: 'extContractsGroup',
    body: { tenantName: 't1', contractsGroupName: 'c', contractsType: 'used' },
    code: 'INVALID_ARGUMENT',
    field: 'contractsType',
    message: /provided' or 'consumed/,
  },
  {
    name: 'aciGw bad yes/no',
    type: 'aciGw',
    body: { enforcePolicies: 'maybe' },
    code: 'INVALID_ARGUMENT',
    field: 'enforcePolicies',
    message: /yes' or 'no/,
  },

  // references exist
  {
    name: 'network in missing tenant',
    type: 'network',
    body: net({ tenantName: 'nope' }),
    code: 'NOT_FOUND',
    field: 'tenantName',
    message: /tenant nope does not exist/,
  },
  {
    name: 'group on missing network',
    type: 'endpointGroup',
    body: grp({ networkName: 'nx' }),
    code: 'NOT_FOUND',
    field: 'networkName',
    message: /network t1:nx does not exist/,
  },
  {
    name: 'group with missing policy',
    type: 'endpointGroup',
    body: grp({ policies: ['p1', 'px'] }),
    code: 'NOT_FOUND',
    field: 'policies',
    message: /policy t1:px/,
  },
  {
    name: 'group with missing profile',
    type: 'endpointGroup',
    body: grp({ netProfile: 'px' }),
    code: 'NOT_FOUND',
    field: 'netProfile',
    message: /netprofile t1:px/,
  },
  {
    name: 'group with missing contracts',
    type: 'endpointGroup',
    body: grp({ extContractsGrps: ['cx'] }),
    code: 'NOT_FOUND',
    field: 'extContractsGrps',
    message: /t1:cx/,
  },
  {
    name: 'policy in missing tenant',
    type: 'policy',
    body: { tenantName: 'nope', policyName: 'p' },
    code: 'NOT_FOUND',
    field: 'tenantName',
    message: /tenant nope/,
  },
  {
    name: 'rule of missing policy',
    type: 'rule',
    body: rule({ policyName: 'px' }),
    code: 'NOT_FOUND',
    field: 'policyName',
    message: /policy t1:px/,
  },
  {
    name: 'rule from missing group',
    type: 'rule',
    body: rule({ fromEndpointGroup: 'gx' }),
    code: 'NOT_FOUND',
    field: 'fromEndpointGroup',
    message: /t1:gx/,
  },
  {
    name: 'rule to missing network',
    type: 'rule',
    body: rule({ direction: 'out', toNetwork: 'nx' }),
    code: 'NOT_FOUND',
    field: 'toNetwork',
    message: /t1:nx/,
  },
  {
    name: 'app profile with missing group',
    type: 'appProfile',
    body: { tenantName: 't1', appProfileName: 'a', endpointGroups: ['g1', 'gx'] },
    code: 'NOT_FOUND',
    field: 'endpointGroups',
    message: /t1:gx/,
  },
  {
    name: 'service on missing network',
    type: 'serviceLB',
    body: { tenantName: 't1', serviceName: 's', networkName: 'nx' },
    code: 'NOT_FOUND',
    field: 'networkName',
    message: /t1:nx/,
  },
  {
    name: 'contracts in missing tenant',
    type: 'extContractsGroup',
    body: { tenantName: 'nope', contractsGroupName: 'c', contractsType: 'provided' },
    code: 'NOT_FOUND',
    field: 'tenantName',
    message: /tenant nope/,
  },
  {
    name: 'profile in missing tenant',
    type: 'netprofile',
    body: { tenantName: 'nope', profileName: 'x' },
    code: 'NOT_FOUND',
    field: 'tenantName',
    message: /tenant nope/,
  },

  // subnets, gateways, pools, tags
  {
    name: 'malformed subnet',
    type: 'network',
    body: net({ subnet: '10.9.0/16' }),
    code: 'INVALID_ARGUMENT',
    field: 'subnet',
    message: /IPv4 CIDR/,
  },
  {
    name: 'subnet too small',
    type: 'network',
    body: net({ subnet: '10.9.0.0/31' }),
    code: 'INVALID_ARGUMENT',
    field: 'subnet',
    message: /too small/,
  },
  {
    name: 'overlapping subnet in the tenant',
    type: 'network',
    body: net({ subnet: '10.1.0.0/16' }),
    code: 'CONFLICT',
    field: 'subnet',
    message: /overlaps subnet 10.1.1.0\/24 of network t1:n1/,
  },
  {
    name: 'overlapping range subnet',
    type: 'network',
    body: net({ subnet: '10.1.1.100-10.1.1.120/24' }),
    code: 'CONFLICT',
    field: 'subnet',
    message: /overlaps/,
  },
  {
    name: 'gateway outside subnet',
    type: 'network',
    body: net({ gateway: '10.8.0.1' }),
    code: 'INVALID_ARGUMENT',
    field: 'gateway',
    message: /not a host address inside subnet/,
  },
  {
    name: 'gateway is the network address',
    type: 'network',
    body: net({ gateway: '10.9.0.0' }),
    code: 'INVALID_ARGUMENT',
    field: 'gateway',
    message: /not a host address/,
  },
  {
    name: 'gateway not IPv4',
    type: 'network',
    body: net({ gateway: 'gw' }),
    code: 'INVALID_ARGUMENT',
    field: 'gateway',
    message: /IPv4 address/,
  },
  {
    name: 'bad ipv6Subnet',
    type: 'network',
    body: net({ ipv6Subnet: '2001:db8::/200' }),
    code: 'INVALID_ARGUMENT',
    field: 'ipv6Subnet',
    message: /IPv6 CIDR/,
  },
  {
    name: 'ipv6Subnet smaller than the IPv4 one',
    type: 'network',
    body: net({ ipv6Subnet: '2001:db8::/120' }),
    code: 'INVALID_ARGUMENT',
    field: 'ipv6Subnet',
    message: /fewer host addresses/,
  },
  {
    name: 'ipv6Gateway outside',
    type: 'network',
    body: net({ ipv6Subnet: '2001:db8:9::/64', ipv6Gateway: '2001:db8:8::1' }),
    code: 'INVALID_ARGUMENT',
    field: 'ipv6Gateway',
    message: /outside ipv6Subnet/,
  },
  {
    name: 'ipv6Gateway without ipv6Subnet',
    type: 'network',
    body: net({ ipv6Gateway: '2001:db8::1' }),
    code: 'INVALID_ARGUMENT',
    field: 'ipv6Gateway',
    message: /needs ipv6Subnet/,
  },
  {
    name: 'overlapping ipv6Subnet',
    type: 'network',
    body: net({ ipv6Subnet: '2001:db8:1::/48' }),
    code: 'CONFLICT',
    field: 'ipv6Subnet',
    message: /overlaps ipv6Subnet 2001:db8:1::\/64/,
  },
  {
    name: 'vlan outside the global range',
    type: 'network',
    body: net({ encap: 'vlan', pktTag: 4095 }),
    code: 'INVALID_ARGUMENT',
    field: 'pktTag',
    message: /outside the global vlan range 1-4094/,
  },
  {
    name: 'vlan outside a narrowed global range',
    type: 'network',
    body: net({ encap: 'vlan', pktTag: 300 }),
    world: (w) => {
      w.global = [{ ...(w.global?.[0] ?? ({} as never)), vlans: '1-200' }];
    },
    code: 'INVALID_ARGUMENT',
    field: 'pktTag',
    message: /outside the global vlan range 1-200/,
  },
  {
    name: 'vni outside the global range',
    type: 'network',
    body: net({ pktTag: 20000 }),
    code: 'INVALID_ARGUMENT',
    field: 'pktTag',
    message: /outside the global vxlan range 1-10000/,
  },
  {
    name: 'tag already used',
    type: 'network',
    body: net({ pktTag: 100 }),
    code: 'CONFLICT',
    field: 'pktTag',
    message: /vxlan 100 is already used by network t1:n1/,
  },
  {
    name: 'network named like a group',
    type: 'network',
    body: net({ networkName: 'g1' }),
    code: 'CONFLICT',
    field: 'networkName',
    message: /endpoint group named g1/,
  },
  {
    name: 'group named like a network',
    type: 'endpointGroup',
    body: grp({ groupName: 'n2' }),
    code: 'CONFLICT',
    field: 'groupName',
    message: /network named n2/,
  },
  {
    name: 'malformed ipPool',
    type: 'endpointGroup',
    body: grp({ ipPool: '10.1.1.10' }),
    code: 'INVALID_ARGUMENT',
    field: 'ipPool',
    message: /range like/,
  },
  {
    name: 'ipPool outside the subnet',
    type: 'endpointGroup',
    body: grp({ ipPool: '10.1.1.200-10.1.2.20' }),
    code: 'INVALID_ARGUMENT',
    field: 'ipPool',
    message: /outside the addresses of subnet 10.1.1.0\/24/,
  },
  {
    name: 'service address outside the subnet',
    type: 'serviceLB',
    body: { tenantName: 't1', serviceName: 's', networkName: 'n1', ipAddress: '10.7.0.1' },
    code: 'INVALID_ARGUMENT',
    field: 'ipAddress',
    message: /outside subnet/,
  },

  // rules
  {
    name: "'in' rule with a to* field",
    type: 'rule',
    body: rule({ toEndpointGroup: 'g1' }),
    code: 'INVALID_ARGUMENT',
    field: 'toEndpointGroup',
    message: /'in' rule matches on fromEndpointGroup/,
  },
  {
    name: "'out' rule with a from* field",
    type: 'rule',
    body: rule({ direction: 'out', fromNetwork: 'n1' }),
    code: 'INVALID_ARGUMENT',
    field: 'fromNetwork',
    message: /'out' rule matches on toEndpointGroup/,
  },
  {
    name: 'group and network together',
    type: 'rule',
    body: rule({ fromEndpointGroup: 'g1', fromNetwork: 'n1' }),
    code: 'INVALID_ARGUMENT',
    field: 'fromNetwork',
    message: /mutually exclusive/,
  },
  {
    name: 'network and IP together',
    type: 'rule',
    body: rule({ direction: 'out', toNetwork: 'n1', toIpAddress: '10.0.0.1' }),
    code: 'INVALID_ARGUMENT',
    field: 'toIpAddress',
    message: /mutually exclusive/,
  },
  {
    name: 'bad rule IP',
    type: 'rule',
    body: rule({ fromIpAddress: '10.0.0.0/33' }),
    code: 'INVALID_ARGUMENT',
    field: 'fromIpAddress',
    message: /IPv4 address or CIDR/,
  },
  {
    name: 'port without tcp/udp',
    type: 'rule',
    body: rule({ protocol: 'icmp', port: 80 }),
    code: 'INVALID_ARGUMENT',
    field: 'port',
    message: /needs protocol tcp or udp/,
  },

  // policy input (docs/policy.md, 'Refused input')
  {
    name: 'rule to missing group',
    type: 'rule',
    body: rule({ direction: 'out', toEndpointGroup: 'nosuch' }),
    code: 'NOT_FOUND',
    field: 'toEndpointGroup',
    message: /endpoint group t1:nosuch does not exist/,
  },
  {
    name: 'rule from missing network',
    type: 'rule',
    body: rule({ fromNetwork: 'nosuch' }),
    code: 'NOT_FOUND',
    field: 'fromNetwork',
    message: /network t1:nosuch does not exist/,
  },
  {
    name: 'port without protocol',
    type: 'rule',
    body: rule({ port: 80 }),
    code: 'INVALID_ARGUMENT',
    field: 'port',
    message: /port 80 needs protocol tcp or udp \(no protocol given; Contiv ignored/,
  },
  {
    name: 'port with icmp by number',
    type: 'rule',
    body: rule({ protocol: '1', port: 7 }),
    code: 'INVALID_ARGUMENT',
    field: 'port',
    message: /needs protocol tcp or udp \(got '1'\)/,
  },
  ...(
    [
      ['fromIpAddress', 'in', '10.1.1.300'],
      ['fromIpAddress', 'in', 'garbage'],
      ['fromIpAddress', 'in', '10.1.1'],
      ['fromIpAddress', 'in', '10.1.1.0/'],
      ['fromIpAddress', 'in', '10.1.1.0/24/8'],
      ['fromIpAddress', 'in', ' 10.1.1.1'],
      // the agent's parser reads a leading zero as octal (010 is 8)
      ['fromIpAddress', 'in', '010.1.1.1'],
      ['fromIpAddress', 'in', '10.1.1.0/08'],
      ['toIpAddress', 'out', '10.1.1.0/33'],
      ['toIpAddress', 'out', '2001:db8::1'],
      ['toIpAddress', 'out', '10.1.1.1-10'],
    ] as const
  ).map(
    ([field, direction, ip]): Case => ({
      name: `${field} '${ip}'`,
      type: 'rule',
      body: rule({ direction, [field]: ip }),
      code: 'INVALID_ARGUMENT',
      field,
      message: /must be an IPv4 address or CIDR/,
    }),
  ),
  ...['TCP', 'tcp6', '256', '-1', '1000', 'icmp6'].map(
    (protocol): Case => ({
      name: `protocol '${protocol}'`,
      type: 'rule',
      body: rule({ protocol }),
      code: 'INVALID_ARGUMENT',
      field: 'protocol',
      message: /protocol (must be 'tcp', 'udp', 'icmp' or an IP protocol number|number must be between 0 and 255)/,
    }),
  ),
  {
    name: "'out' group and network together",
    type: 'rule',
    body: rule({ direction: 'out', toEndpointGroup: 'g1', toNetwork: 'n1' }),
    code: 'INVALID_ARGUMENT',
    field: 'toNetwork',
    message: /mutually exclusive/,
  },
  {
    name: "'in' rule with toIpAddress (Contiv's Kubernetes-only form)",
    type: 'rule',
    body: rule({ fromEndpointGroup: 'g1', toIpAddress: '10.1.1.5' }),
    code: 'INVALID_ARGUMENT',
    field: 'toIpAddress',
    message: /toIpAddress is not allowed/,
  },
  {
    name: 'bandwidth that is not one',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', bandwidth: 'fast' },
    code: 'INVALID_ARGUMENT',
    field: 'bandwidth',
    message: /kbps, mbps or gbps/,
  },
  {
    name: 'bandwidth under 1 kbps',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', bandwidth: '500bps' },
    code: 'INVALID_ARGUMENT',
    field: 'bandwidth',
    message: /whole number of kbps/,
  },
  {
    name: 'bandwidth not a whole kbps',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', bandwidth: '1500bps' },
    code: 'INVALID_ARGUMENT',
    field: 'bandwidth',
    message: /whole number of kbps/,
  },
  {
    name: 'bandwidth over a 32-bit kbps',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', bandwidth: '4295gbps' },
    code: 'INVALID_ARGUMENT',
    field: 'bandwidth',
    message: /at most 4294967295kbps/,
  },
  {
    name: 'bandwidth with more digits than a number holds',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', bandwidth: `${'9'.repeat(28)}kbps` },
    code: 'INVALID_ARGUMENT',
    field: 'bandwidth',
    message: /at most 4294967295kbps/,
  },
  {
    name: 'bandwidth longer than its limit',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', bandwidth: `${'9'.repeat(400)}kbps` },
    code: 'INVALID_ARGUMENT',
    field: 'bandwidth',
    message: /at most 32 characters/,
  },
  {
    name: 'burst over a 32-bit kbit meter burst',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', burst: 536870912 },
    code: 'INVALID_ARGUMENT',
    field: 'burst',
    message: /burst must be between 0 and 536870911 \(kbytes\)/,
  },
  {
    name: 'burst -1',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', burst: -1 },
    code: 'INVALID_ARGUMENT',
    field: 'burst',
    message: /between 0 and 536870911/,
  },
  {
    name: 'burst not a number',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', burst: '64k' },
    code: 'INVALID_ARGUMENT',
    field: 'burst',
    message: /burst must be a number/,
  },

  // profiles, global, bgp
  {
    name: 'bandwidth without unit',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', bandwidth: '10' },
    code: 'INVALID_ARGUMENT',
    field: 'bandwidth',
    message: /kbps, mbps or gbps/,
  },
  {
    name: 'bandwidth bad unit',
    type: 'netprofile',
    body: { tenantName: 't1', profileName: 'x', bandwidth: '10mb' },
    code: 'INVALID_ARGUMENT',
    field: 'bandwidth',
    message: /kbps, mbps or gbps/,
  },
  { name: 'bad vlan range', type: 'global', body: { vlans: '0-5000' }, code: 'INVALID_ARGUMENT', field: 'vlans', message: /inside 1-4094/ },
  { name: 'bad vxlan range', type: 'global', body: { vxlans: '10-5' }, code: 'INVALID_ARGUMENT', field: 'vxlans', message: /range N-M/ },
  {
    name: 'bad pvtSubnet',
    type: 'global',
    body: { pvtSubnet: '172.19.0.0' },
    code: 'INVALID_ARGUMENT',
    field: 'pvtSubnet',
    message: /IPv4 CIDR/,
  },
  {
    name: 'fwdMode change while networks exist',
    type: 'global',
    body: { fwdMode: 'routing' },
    code: 'CONFLICT',
    field: 'fwdMode',
    message: /cannot change fwdMode .* while 3 network/,
  },
  {
    name: 'pvtSubnet change while networks exist',
    type: 'global',
    body: { pvtSubnet: '172.20.0.0/16' },
    code: 'CONFLICT',
    field: 'pvtSubnet',
    message: /cannot change pvtSubnet/,
  },
  {
    name: 'vlan range leaving out a used tag',
    type: 'global',
    body: { vlans: '100-200' },
    code: 'CONFLICT',
    field: 'vlans',
    message: /leaves out vlan 10 used by network t1:n2/,
  },
  {
    name: 'bgp bad routerip',
    type: 'Bgp',
    body: { hostname: 'h1', routerip: '50.1.1.1', as: '65001' },
    code: 'INVALID_ARGUMENT',
    field: 'routerip',
    message: /prefix length/,
  },
  {
    name: 'bgp bad neighbor',
    type: 'Bgp',
    body: { hostname: 'h1', routerip: '50.1.1.1/24', as: '65001', neighbor: 'x' },
    code: 'INVALID_ARGUMENT',
    field: 'neighbor',
    message: /IPv4 address/,
  },

  // unsafe updates
  {
    name: 'network subnet change',
    type: 'network',
    body: net({ networkName: 'n1', subnet: '10.1.1.0/25', gateway: '10.1.1.1', pktTag: 100 }),
    code: 'CONFLICT',
    field: 'subnet',
    message: /cannot change subnet of network t1:n1/,
  },
  {
    name: 'network encap change',
    type: 'network',
    body: net({ networkName: 'n1', subnet: '10.1.1.0/24', gateway: '10.1.1.1', encap: 'vlan' }),
    code: 'CONFLICT',
    field: 'encap',
    message: /cannot change encap/,
  },
  {
    name: 'network tag change',
    type: 'network',
    body: net({ networkName: 'n1', subnet: '10.1.1.0/24', gateway: '10.1.1.1', pktTag: 101 }),
    code: 'CONFLICT',
    field: 'pktTag',
    message: /cannot change pktTag .* from 100 to 101/,
  },
  {
    name: 'network gateway change',
    type: 'network',
    body: net({ networkName: 'n1', subnet: '10.1.1.0/24', gateway: '10.1.1.2' }),
    code: 'CONFLICT',
    field: 'gateway',
    message: /cannot change gateway/,
  },
  {
    name: 'group network change',
    type: 'endpointGroup',
    body: grp({ groupName: 'g1', networkName: 'n2', policies: ['p1'] }),
    code: 'CONFLICT',
    field: 'networkName',
    message: /cannot change networkName of endpoint group t1:g1/,
  },
  {
    name: 'group pool change',
    type: 'endpointGroup',
    body: grp({ groupName: 'g2', ipPool: '10.1.1.10-10.1.1.30' }),
    code: 'CONFLICT',
    field: 'ipPool',
    message: /cannot change ipPool/,
  },
];

// what the REST fuzz of issue 13 stored although invalid: each is refused, naming the field
const big = 'x'.repeat(1_000_000);
cases.push(
  {
    name: 'AS 0',
    type: 'Bgp',
    body: { hostname: 'h1', routerip: '50.1.1.1/24', as: '0' },
    code: 'INVALID_ARGUMENT',
    field: 'as',
    message: /AS number \(1-4294967295\)/,
  },
  {
    name: 'AS 4294967296',
    type: 'Bgp',
    body: { hostname: 'h1', routerip: '50.1.1.1/24', as: '4294967296' },
    code: 'INVALID_ARGUMENT',
    field: 'as',
    message: /AS number/,
  },
  {
    name: 'neighbor-as 0',
    type: 'Bgp',
    body: { hostname: 'h1', routerip: '50.1.1.1/24', as: '65001', 'neighbor-as': '0' },
    code: 'INVALID_ARGUMENT',
    field: 'neighbor-as',
    message: /AS number/,
  },
  {
    name: 'serviceLB port 99999',
    type: 'serviceLB',
    body: { tenantName: 't1', serviceName: 's', ports: ['80:99999:TCP'] },
    code: 'INVALID_ARGUMENT',
    field: 'ports.0',
    message: /between 1 and 65535/,
  },
  {
    name: 'serviceLB port 0',
    type: 'serviceLB',
    body: { tenantName: 't1', serviceName: 's', ports: ['0:80:UDP'] },
    code: 'INVALID_ARGUMENT',
    field: 'ports.0',
    message: /between 1 and 65535/,
  },
  {
    name: 'tenant defaultNetwork naming no network',
    type: 'tenant',
    body: { tenantName: 't1', defaultNetwork: 'nosuch' },
    code: 'NOT_FOUND',
    field: 'defaultNetwork',
    message: /network t1:nosuch does not exist/,
  },
  {
    name: "tenant defaultNetwork naming another tenant's network",
    type: 'tenant',
    body: { tenantName: 't2', defaultNetwork: 'n1' },
    code: 'NOT_FOUND',
    field: 'defaultNetwork',
    message: /network t2:n1 does not exist/,
  },
  {
    name: '1 MB cfgdTag',
    type: 'network',
    body: net({ cfgdTag: big }),
    code: 'INVALID_ARGUMENT',
    field: 'cfgdTag',
    message: /at most 256 characters/,
  },
  {
    name: 'cfgdTag with NUL',
    type: 'endpointGroup',
    body: grp({ cfgdTag: 'a\u0000b' }),
    code: 'INVALID_ARGUMENT',
    field: 'cfgdTag',
    message: /control characters/,
  },
  {
    name: 'cfgdTag with a newline',
    type: 'network',
    body: net({ cfgdTag: 'a\nb' }),
    code: 'INVALID_ARGUMENT',
    field: 'cfgdTag',
    message: /control characters/,
  },
  {
    name: '1 MB name',
    type: 'tenant',
    body: { tenantName: big },
    code: 'INVALID_ARGUMENT',
    field: 'tenantName',
    message: /at most 64 characters/,
  },
  {
    name: '1 MB aciGw binding',
    type: 'aciGw',
    body: { name: 'aciGw', pathBindings: big },
    code: 'INVALID_ARGUMENT',
    field: 'pathBindings',
    message: /at most 1024 characters/,
  },
  {
    name: 'a list of 10,000 policies',
    type: 'endpointGroup',
    body: grp({ policies: Array.from({ length: 10_000 }, (_, i) => `p${i}`) }),
    code: 'INVALID_ARGUMENT',
    field: 'policies',
    message: /at most 256 entries/,
  },
  {
    name: 'a number where text belongs',
    type: 'network',
    body: net({ cfgdTag: 7 }),
    code: 'INVALID_ARGUMENT',
    field: 'cfgdTag',
    message: /must be a string/,
  },
  {
    name: 'deep nesting where text belongs',
    type: 'rule',
    body: rule({ fromIpAddress: JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as unknown }),
    code: 'INVALID_ARGUMENT',
    field: 'fromIpAddress',
    message: /must be a string/,
  },
  {
    name: 'a body that is no object',
    type: 'policy',
    body: ['tenantName'] as unknown as Record<string, unknown>,
    code: 'INVALID_ARGUMENT',
    field: 'body',
    message: /JSON object/,
  },
);

describe('netmaster validation: every rule has a failing case', () => {
  for (const c of cases) {
    it(`${c.type}: ${c.name}`, () => {
      const w = baseWorld();
      c.world?.(w);
      expectError(() => upsert(c.type, c.body, w), c);
    });
  }
});

describe('netmaster validation: what is allowed', () => {
  const ok: Array<{ name: string; type: ObjectType; body: Record<string, unknown> }> = [
    { name: 'new network', type: 'network', body: net({ gateway: '10.9.0.1' }) },
    { name: 'another tenant may reuse a subnet', type: 'network', body: net({ tenantName: 't2', subnet: '10.1.1.0/24' }) },
    { name: 'range subnet beside a network', type: 'network', body: net({ subnet: '10.1.3.10-10.1.3.20/24' }) },
    {
      name: 'dual stack network',
      type: 'network',
      body: net({ gateway: '10.9.0.1', ipv6Subnet: '2001:db8:9::/64', ipv6Gateway: '2001:db8:9::1' }),
    },
    {
      // Contiv's `-g 10.9.0.254 -g6 2001:db8:9::1`: the endpoint at offset 1 gets another IPv6 address (model/endpoint-v6.ts)
      name: 'dual stack, IPv6 gateway at an IPv4 host offset',
      type: 'network',
      body: net({ gateway: '10.9.0.254', ipv6Subnet: '2001:db8:9::/64', ipv6Gateway: '2001:db8:9::5' }),
    },
    {
      name: 'dual stack, IPv6 gateway beyond the IPv4 host range',
      type: 'network',
      body: net({ ipv6Subnet: '2001:db8:9::/64', ipv6Gateway: '2001:db8:9::1:0:0:1' }),
    },
    {
      name: 'safe network update (cfgdTag; pktTag 0 keeps the tag)',
      type: 'network',
      body: net({ networkName: 'n1', subnet: '10.1.1.0/24', gateway: '10.1.1.1', cfgdTag: 'x' }),
    },
    {
      name: "group's policies and profile change",
      type: 'endpointGroup',
      body: grp({ groupName: 'g1', policies: ['p1', 'p2'], netProfile: '' }),
    },
    { name: 'group with a pool', type: 'endpointGroup', body: grp({ ipPool: '10.1.1.100-10.1.1.150' }) },
    {
      name: 'profile bandwidth/DSCP/burst change',
      type: 'netprofile',
      body: { tenantName: 't1', profileName: 'prof1', bandwidth: '1gbps', DSCP: 63, burst: 100 },
    },
    { name: '500kbps', type: 'netprofile', body: { tenantName: 't1', profileName: 'x', bandwidth: '500kbps' } },
    { name: 'rule added to a policy', type: 'rule', body: rule({ fromEndpointGroup: 'g1', protocol: 'udp', port: 53, priority: 100 }) },
    { name: 'out rule to an IP', type: 'rule', body: rule({ direction: 'out', toIpAddress: '10.0.0.0/8', protocol: '6', port: 22 }) },
    { name: 'in rule from any address', type: 'rule', body: rule({ fromIpAddress: '0.0.0.0/0', protocol: '17', port: 53 }) },
    { name: 'protocol number 0', type: 'rule', body: rule({ protocol: '0' }) },
    // Contiv accepted a group with an address: the group's members inside it (lib/policy/contiv.ts)
    { name: "'in' group and IP together", type: 'rule', body: rule({ fromEndpointGroup: 'g1', fromIpAddress: '10.1.1.0/28' }) },
    { name: 'protocol number 255', type: 'rule', body: rule({ protocol: '255' }) },
    {
      name: 'largest bandwidth and burst',
      type: 'netprofile',
      body: { tenantName: 't1', profileName: 'x', bandwidth: '4294gbps', burst: 536870911 },
    },
    {
      name: 'bandwidth in whole kbps written as bps',
      type: 'netprofile',
      body: { tenantName: 't1', profileName: 'x', bandwidth: '2000bps' },
    },
    { name: 'global arpMode change with networks', type: 'global', body: { arpMode: 'flood' } },
    {
      name: 'bgp',
      type: 'Bgp',
      body: { hostname: 'h1', routerip: '50.1.1.1/24', as: '65001', neighbor: '50.1.1.2', 'neighbor-as': '65002' },
    },
  ];
  for (const c of ok) {
    it(`${c.type}: ${c.name}`, () => {
      const r = upsert(c.type, c.body, baseWorld());
      assert.ok(r.obj);
    });
  }

  it('a safe network update keeps the allocated tag', () => {
    const r = upsert('network', net({ networkName: 'n1', subnet: '10.1.1.0/24', gateway: '10.1.1.1', cfgdTag: 'x' }), baseWorld());
    assert.equal((r.obj as { pktTag: number }).pktTag, 100);
    assert.ok(r.prev);
  });

  describe('a network created without a tag (config pktTag 0, the allocated tag in its oper)', () => {
    const withAuto = (): World => {
      const w = baseWorld();
      w.network = [
        ...(w.network ?? []),
        { ...(w.network?.[0] as ObjectOf['network']), networkName: 'auto', pktTag: 0, subnet: '10.1.5.0/24', gateway: '' },
      ];
      w.opers = { 'network/t1:auto': { pktTag: 200 } };
      w.tagOwners = { ...w.tagOwners, 'vxlan:200': 't1:auto' };
      return w;
    };
    const auto = (over: Record<string, unknown> = {}) => net({ networkName: 'auto', subnet: '10.1.5.0/24', cfgdTag: 'x', ...over });

    it('an update with pktTag 0 keeps the allocated tag and its config keeps 0', () => {
      const r = upsert('network', auto(), withAuto());
      assert.equal((r.obj as { pktTag: number }).pktTag, 0);
      assert.ok(r.prev);
    });

    it('an update naming the allocated tag is accepted, and its config keeps what was given', () => {
      assert.equal((upsert('network', auto({ pktTag: 200 }), withAuto()).obj as { pktTag: number }).pktTag, 200);
    });

    it('an update naming another tag is refused with the tag in use', () => {
      expectError(() => upsert('network', auto({ pktTag: 201 }), withAuto()), {
        code: 'CONFLICT',
        field: 'pktTag',
        message: /cannot change pktTag of network t1:auto from 200 to 201/,
      });
    });

    it('global ranges must keep the allocated tag', () => {
      expectError(() => upsert('global', { vxlans: '1-150' }, withAuto()), {
        code: 'CONFLICT',
        field: 'vxlans',
        message: /vxlans '1-150' leaves out vxlan 200 used by network t1:auto/,
      });
      assert.ok(upsert('global', { vxlans: '1-200' }, withAuto()).obj);
    });
  });

  it("a rule's priority 0 or none is Contiv's default, 1", () => {
    for (const priority of [0, undefined]) {
      const r = upsert('rule', rule({ fromEndpointGroup: 'g1', priority }), baseWorld());
      assert.equal((r.obj as { priority: number }).priority, 1, `priority ${String(priority)}`);
    }
  });

  it('global fwdMode may change while no network exists', () => {
    const w = baseWorld();
    w.network = [];
    const r = upsert('global', { fwdMode: 'routing', pvtSubnet: '172.30.0.0/16' }, w);
    assert.equal((r.obj as { fwdMode: string }).fwdMode, 'routing');
  });
});

describe('netmaster delete checks', () => {
  const del = (type: ObjectType, key: string, w = baseWorld()) => checkDelete(type, key, loadFromWorld(w, needsForDelete(type, key)));
  const refused: Array<{ name: string; type: ObjectType; key: string; code: string; message: RegExp }> = [
    {
      name: 'tenant holding objects',
      type: 'tenant',
      key: 't1',
      code: 'IN_USE',
      message: /tenant t1 still holds 3 network\(s\), 2 endpointGroup\(s\), 2 policy\(s\)/,
    },
    { name: 'network with groups', type: 'network', key: 't1:n1', code: 'IN_USE', message: /used by endpoint group\(s\) g1, g2/ },
    { name: 'network with endpoints', type: 'network', key: 't1:n2', code: 'IN_USE', message: /has 1 endpoint/ },
    { name: 'profile used by a group', type: 'netprofile', key: 't1:prof1', code: 'IN_USE', message: /used by endpoint group\(s\) g1/ },
    { name: 'policy used by a group', type: 'policy', key: 't1:p1', code: 'IN_USE', message: /used by endpoint group\(s\) g1/ },
    {
      name: 'contracts used by a group',
      type: 'extContractsGroup',
      key: 't1:ext1',
      code: 'IN_USE',
      message: /used by endpoint group\(s\) g1/,
    },
    { name: 'group with endpoints', type: 'endpointGroup', key: 't1:g1', code: 'IN_USE', message: /has 2 endpoint/ },
    { name: 'group used by a rule', type: 'endpointGroup', key: 't1:g2', code: 'IN_USE', message: /used by rule\(s\) p2:1/ },
    { name: 'missing object', type: 'network', key: 't1:nx', code: 'NOT_FOUND', message: /does not exist/ },
    { name: 'the global object', type: 'global', key: 'global', code: 'CONFLICT', message: /cannot be deleted/ },
  ];
  for (const c of refused) {
    it(`refuses: ${c.name}`, () => {
      const w = baseWorld();
      w.endpointCounts = { ...w.endpointCounts, 'net:t1:n2': 1 };
      expectError(() => del(c.type, c.key, w), c);
    });
  }
  it("keeps a tenant's default network while the tenant names it", () => {
    const w = baseWorld();
    w.tenant = w.tenant?.map((t) => (t.tenantName === 't1' ? { ...t, defaultNetwork: 'empty-net' } : t));
    expectError(() => del('network', 't1:empty-net', w), { code: 'IN_USE', message: /network t1:empty-net is used by tenant\(s\) t1/ });
    assert.ok(upsert('tenant', { tenantName: 't1', defaultNetwork: 'empty-net' }, baseWorld()).obj);
  });
  it('a missing object of any kind, under any key, is NOT_FOUND naming the key (never an undeclared read)', () => {
    for (const type of OBJECT_TYPES) {
      for (const key of ['nosuch', 't1:nosuch', 't1:p1:nosuch', 't1:', ':x', '']) {
        expectError(() => del(type, key), { code: 'NOT_FOUND', field: 'key', message: /does not exist/ });
      }
    }
  });
  it('allows deleting unused objects', () => {
    assert.ok(del('tenant', 'empty'));
    assert.ok(del('network', 't1:empty-net'));
    assert.ok(del('policy', 't1:p2'));
    assert.ok(del('rule', 't1:p2:1'));
  });
});
