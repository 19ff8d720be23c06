/**
 * A policy rule as ACI objects, as Contiv derived them: an `in` allow rule of policy P from group
 * A (P applied to group B) is a filter with one entry for its protocol/port and a contract with
 * one subject using it, which B provides and A consumes; an `out` rule to group C: C provides,
 * the groups with P consume. ACI's contracts only allow, so a deny rule is expressible only as
 * "deny everything" (what an enforced VRF does by default: nothing to send); deny rules with
 * anything to match, and rules on IP addresses or networks, are refused naming the rule.
 */
import { NetloomError } from '../../lib/errors';
import type { Rule } from '../model/schemas';
import { aciName } from './mo';

export interface RuleContract {
  /** filter, contract and subject name (one per rule) */
  name: string;
  entry: Record<string, string>;
  /** the group on the other side of the rule */
  peerGroup: string;
  /** 'in': the groups with the policy provide, the peer consumes; 'out': the reverse */
  direction: 'in' | 'out';
}

const PROTOCOL_NUMBERS: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp' };

function ruleId(r: Rule): string {
  return `${r.tenantName}:${r.policyName}:${r.ruleId}`;
}

/** A deny rule that matches everything: an enforced VRF's default (no contract). */
export function isDenyAll(r: Rule): boolean {
  return (
    r.action === 'deny' &&
    !r.fromEndpointGroup &&
    !r.toEndpointGroup &&
    !r.fromNetwork &&
    !r.toNetwork &&
    !r.fromIpAddress &&
    !r.toIpAddress &&
    r.protocol === '' &&
    r.port === 0
  );
}

/** Why ACI cannot express `r` (a NetloomError naming the rule and field), or undefined. */
export function aciRuleProblem(r: Rule): NetloomError | undefined {
  const refuse = (field: string, why: string) =>
    new NetloomError('INVALID_ARGUMENT', `rule ${ruleId(r)}: ${why} (networkInfraType aci)`, { field, details: { rule: ruleId(r) } });
  if (isDenyAll(r)) return undefined;
  if (r.action === 'deny')
    return refuse(
      'action',
      'ACI contracts only allow: a deny rule can only deny everything (no group, network, address, protocol or port)',
    );
  if (r.fromIpAddress || r.toIpAddress)
    return refuse(r.fromIpAddress ? 'fromIpAddress' : 'toIpAddress', 'ACI contracts are between EPGs: a rule cannot match an IP address');
  if (r.fromNetwork || r.toNetwork)
    return refuse(r.fromNetwork ? 'fromNetwork' : 'toNetwork', 'ACI contracts are between EPGs: a rule cannot match a network');
  const peer = r.direction === 'in' ? r.fromEndpointGroup : r.toEndpointGroup;
  if (!peer)
    return refuse(
      r.direction === 'in' ? 'fromEndpointGroup' : 'toEndpointGroup',
      `an ${r.direction} rule needs the group on the other side for its contract`,
    );
  if (r.port > 0 && r.protocol === '') return refuse('protocol', 'a port needs protocol tcp or udp');
  return undefined;
}

/** The contract of an expressible allow rule; undefined for deny-all; throws for the rest. */
export function ruleContract(r: Rule): RuleContract | undefined {
  const problem = aciRuleProblem(r);
  if (problem) throw problem;
  if (isDenyAll(r)) return undefined;
  const prot = PROTOCOL_NUMBERS[r.protocol] ?? (r.protocol === '' ? 'unspecified' : r.protocol);
  const entry: Record<string, string> = { etherT: 'ip', prot };
  if (r.port > 0) {
    entry.dFromPort = String(r.port);
    entry.dToPort = String(r.port);
  }
  return {
    name: aciName(`${r.policyName}-${r.ruleId}`),
    entry: { name: aciName(r.port > 0 ? `${prot}-${r.port}` : prot), ...entry },
    peerGroup: r.direction === 'in' ? r.fromEndpointGroup : r.toEndpointGroup,
    direction: r.direction,
  };
}
