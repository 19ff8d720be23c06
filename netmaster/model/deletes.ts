/**
 * Delete checks as pure functions over current state: a delete is refused (IN_USE) while
 * something still uses the object (tenant with networks/groups/policies/profiles/app profiles/
 * services/contracts; network with groups, services or endpoints; group with endpoints, rules or
 * app profiles; profile, policy or contracts group used by a group). `needsForDelete` lists what
 * the check reads so the store can guard it.
 */
import { NetloomError } from '../../lib/errors';
import type { ObjectOf, ObjectType } from './schemas';
import { emptyNeeds, type IntentState, type Needs } from './state';

const inUse = (msg: string) => new NetloomError('IN_USE', msg);

/** Split a key into [tenant, name, (rule id)]. */
function parts(key: string): string[] {
  return key.split(':');
}

export function needsForDelete(type: ObjectType, key: string): Needs {
  const n = emptyNeeds();
  const [t = ''] = parts(key);
  const range = (rt: ObjectType, prefix = `${t}:`) => n.ranges.push({ type: rt, prefix });
  switch (type) {
    case 'tenant':
      n.keys.push({ type: 'tenant', key });
      for (const rt of ['network', 'endpointGroup', 'policy', 'netprofile', 'appProfile', 'serviceLB', 'extContractsGroup'] as const)
        range(rt);
      break;
    case 'network':
      range('network');
      range('endpointGroup');
      range('serviceLB');
      n.endpointCounts.push({ kind: 'net', key });
      break;
    case 'endpointGroup':
      range('endpointGroup');
      range('rule');
      range('appProfile');
      n.endpointCounts.push({ kind: 'grp', key });
      break;
    case 'policy':
    case 'netprofile':
    case 'extContractsGroup':
      range(type);
      range('endpointGroup');
      break;
    case 'rule':
    case 'appProfile':
    case 'serviceLB':
      range(type);
      break;
    case 'global':
    case 'Bgp':
    case 'aciGw':
      n.keys.push({ type, key });
      break;
  }
  return n;
}

/** Check that `type key` may be deleted; returns the object (NOT_FOUND when absent). */
export function checkDelete<T extends ObjectType>(type: T, key: string, state: IntentState): ObjectOf[T] {
  if (type === 'global') throw new NetloomError('CONFLICT', 'the global object cannot be deleted; change it with a POST instead');
  const obj = state.get(type, key);
  if (!obj) throw new NetloomError('NOT_FOUND', `${type} ${key} does not exist`);
  const [t = '', name = ''] = parts(key);
  const groups = () => state.list('endpointGroup', `${t}:`);
  switch (type) {
    case 'tenant': {
      const held: string[] = [];
      for (const rt of ['network', 'endpointGroup', 'policy', 'netprofile', 'appProfile', 'serviceLB', 'extContractsGroup'] as const) {
        const n = state.list(rt, `${t}:`).length;
        if (n > 0) held.push(`${n} ${rt}(s)`);
      }
      if (held.length > 0) throw inUse(`tenant ${t} still holds ${held.join(', ')}: delete them first`);
      break;
    }
    case 'network': {
      const users = groups().filter((g) => g.networkName === name);
      if (users.length > 0) throw inUse(`network ${key} is used by endpoint group(s) ${users.map((g) => g.groupName).join(', ')}`);
      const svcs = state.list('serviceLB', `${t}:`).filter((s) => s.networkName === name);
      if (svcs.length > 0) throw inUse(`network ${key} is used by service(s) ${svcs.map((s) => s.serviceName).join(', ')}`);
      const eps = state.endpointCount('net', key);
      if (eps > 0) throw inUse(`network ${key} has ${eps} endpoint(s)`);
      break;
    }
    case 'endpointGroup': {
      const eps = state.endpointCount('grp', key);
      if (eps > 0) throw inUse(`endpoint group ${key} has ${eps} endpoint(s)`);
      const rules = state.list('rule', `${t}:`).filter((r) => r.fromEndpointGroup === name || r.toEndpointGroup === name);
      if (rules.length > 0)
        throw inUse(`endpoint group ${key} is used by rule(s) ${rules.map((r) => `${r.policyName}:${r.ruleId}`).join(', ')}`);
      const apps = state.list('appProfile', `${t}:`).filter((a) => a.endpointGroups.includes(name));
      if (apps.length > 0) throw inUse(`endpoint group ${key} is used by app profile(s) ${apps.map((a) => a.appProfileName).join(', ')}`);
      break;
    }
    case 'policy': {
      const users = groups().filter((g) => g.policies.includes(name));
      if (users.length > 0) throw inUse(`policy ${key} is used by endpoint group(s) ${users.map((g) => g.groupName).join(', ')}`);
      break;
    }
    case 'netprofile': {
      const users = groups().filter((g) => g.netProfile === name);
      if (users.length > 0) throw inUse(`netprofile ${key} is used by endpoint group(s) ${users.map((g) => g.groupName).join(', ')}`);
      break;
    }
    case 'extContractsGroup': {
      const users = groups().filter((g) => g.extContractsGrps.includes(name));
      if (users.length > 0)
        throw inUse(`external contracts group ${key} is used by endpoint group(s) ${users.map((g) => g.groupName).join(', ')}`);
      break;
    }
    default:
      break;
  }
  return obj;
}
