/**
 * `netctl policy create|rm|ls|inspect|rule-add|rule-rm|rule-ls` (REST collections `policys`, key
 * `tenant:policy`, and `rules`, key `tenant:policy:ruleId`).
 */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addInspect, addTenantLs } from '../kind-commands';
import { asList, str as field, type JsonObject } from '../client';
import { action, listOptions, str, tenantOption, type Runtime } from '../context';
import { goInt, render, tabwrite } from '../format';
import { policyBody, ruleBody } from '../bodies';
import { UsageError } from '../errors';
import { checkName, intOption, isIPv4, isIPv4Cidr, oneOf } from '../validate';
import { nameLines } from '../listing';
import { policyTable } from '../realization-tables';

const KIND = KINDS.policy;

/** Rules of one policy ordered as Contiv listed them: by priority ascending, stable within a priority. */
export function orderRules(rules: JsonObject[], tenant: string, policy: string): JsonObject[] {
  const mine = rules.filter((r) => r['tenantName'] === tenant && r['policyName'] === policy);
  const prio = (r: JsonObject): number => (typeof r['priority'] === 'number' ? r['priority'] : Number(r['priority'] ?? 0) || 0);
  return mine
    .map((r, i) => ({ r, i }))
    .sort((a, b) => prio(a.r) - prio(b.r) || a.i - b.i)
    .map((x) => x.r);
}

function rulesTable(rules: JsonObject[]): string {
  let t = 'Incoming Rules:\n';
  t += 'Rule\tPriority\tFrom EndpointGroup\tFrom Network\tFrom IpAddress\tTo IpAddress\tProtocol\tPort\tAction\n';
  t += '----\t--------\t------------------\t------------\t---------\t------------\t--------\t----\t------\n';
  for (const r of rules.filter((x) => x['direction'] === 'in')) {
    t +=
      [
        field(r, 'ruleId'),
        goInt(r['priority']),
        field(r, 'fromEndpointGroup'),
        field(r, 'fromNetwork'),
        field(r, 'fromIpAddress'),
        field(r, 'toIpAddress'),
        field(r, 'protocol'),
        goInt(r['port']),
        field(r, 'action'),
      ].join('\t') + '\n';
  }
  t += 'Outgoing Rules:\n';
  t += 'Rule\tPriority\tTo EndpointGroup\tTo Network\tTo IpAddress\tProtocol\tPort\tAction\n';
  t += '----\t--------\t----------------\t----------\t---------\t--------\t----\t------\n';
  for (const r of rules.filter((x) => x['direction'] === 'out')) {
    t +=
      [
        field(r, 'ruleId'),
        goInt(r['priority']),
        field(r, 'toEndpointGroup'),
        field(r, 'toNetwork'),
        field(r, 'toIpAddress'),
        field(r, 'protocol'),
        goInt(r['port']),
        field(r, 'action'),
      ].join('\t') + '\n';
  }
  return tabwrite(t);
}

function checkRuleAddress(value: string, flag: string): string {
  if (value !== '' && !isIPv4(value) && !isIPv4Cidr(value))
    throw new UsageError(`invalid value '${value}' for ${flag}: expected an IPv4 address or CIDR`, flag);
  return value;
}

/** Contiv's direction checks for rule-add, with its messages. */
export function checkRuleDirection(
  dir: string,
  o: { fromGroup: string; toGroup: string; fromNetwork: string; toNetwork: string; fromIp: string },
): void {
  if (dir === 'in') {
    if (o.toGroup !== '') throw new UsageError('Cant specify to-group for incoming rule', 'to-group');
    if (o.toNetwork !== '') throw new UsageError('Cant specify to-network for incoming rule', 'to-network');
    if (o.fromGroup !== '' && o.fromNetwork !== '')
      throw new UsageError("Can't specify both from-group argument and -from-network ", 'from-group');
  } else if (dir === 'out') {
    if (o.fromGroup !== '') throw new UsageError('Cant specify from-group for outgoing rule', 'from-group');
    if (o.fromNetwork !== '') throw new UsageError('Cant specify from-network for outgoing rule', 'from-network');
    if (o.fromIp !== '') throw new UsageError('Cant specify from-ip-address for outgoing rule', 'from-ip-address');
    if (o.toGroup !== '' && o.toNetwork !== '') throw new UsageError("Can't specify both -to-group and -to-network", 'to-group');
  } else {
    throw new UsageError(`Unknown direction '${dir}': must be in or out`, 'direction');
  }
}

export function registerPolicy(program: Command, rt: Runtime): void {
  const policy = program.command('policy').description('Policy manipulation tools');

  tenantOption(policy.command('create').description('Create a new policy').argument('[policy]')).action(
    action(rt, { min: 1, max: 1, missing: 'Policy name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'policy');
      await client().post(`/api/v1/${KIND.collection}/${tenant}:${name}/`, policyBody(tenant, name));
      out(`Creating policy ${tenant}:${name}\n`);
    }),
  );

  tenantOption(policy.command('rm').alias('delete').description('Delete a policy').argument('[policy]')).action(
    action(rt, { min: 1, max: 1, missing: 'Policy name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'policy');
      const c = client();
      out(`Deleting policy ${tenant}:${name}\n`);
      await c.delete(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
    }),
  );

  addTenantLs(policy, rt, KIND, { description: 'List policies' });

  addInspect(policy, rt, KIND, {
    description: 'Inspect a policy',
    argument: '[policy]',
    missing: 'Policy name required',
    what: 'policy',
    table: policyTable,
  });

  listOptions(policy.command('rule-ls').description('List rules for a given tenant,policy').argument('[policy]'), {
    tenant: true,
    json: true,
    quiet: true,
  }).action(
    action(rt, { min: 1, max: 1, missing: 'Policy name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'policy');
      const c = client();
      await c.get(`/api/v1/tenants/${tenant}/`);
      await c.get(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
      const rules = orderRules(asList(await c.get(`/api/v1/${KINDS.rule.collection}/`)), tenant, name);
      out(
        render(
          opts,
          rules,
          () => rulesTable(rules),
          () => nameLines(rules, KINDS.rule.netctl.nameField),
        ),
      );
    }),
  );

  tenantOption(policy.command('rule-rm').description('Delete a rule from the policy').argument('[policy]').argument('[rule-id]')).action(
    action(rt, { min: 2, max: 2, missing: 'Policy name and Rule ID required' }, async ({ args, opts, client }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'policy');
      const ruleId = checkName(args[1], 'rule id');
      await client().delete(`/api/v1/${KINDS.rule.collection}/${tenant}:${name}:${ruleId}/`);
    }),
  );

  tenantOption(policy.command('rule-add').description('Add a new rule to the policy').argument('[policy]').argument('[rule-id]'))
    .option('-p, --priority <priority>', 'Priority Indicator', '1')
    .option('-d, --direction <direction>', 'Direction of traffic (in/out)', 'in')
    .option('-g, --from-group <group>', 'From Endpoint Group Name (Valid in incoming direction only)')
    .option('-e, --to-group <group>', 'To Endpoint Group Name (Valid in outgoing direction only)')
    .option('-n, --from-network <network>', 'From Network name (Valid in incoming direction only)')
    .option('-o, --to-network <network>', 'To Network name (Valid in outgoing direction only)')
    .option('-i, --from-ip-address <ip>', 'From IP address/CIDR (Valid in incoming direction only)')
    .option('-s, --to-ip-address <ip>', 'To IP address/CIDR (Valid in outgoing direction only)')
    .option('-l, --protocol <protocol>', 'Protocol (e.g., tcp, udp, icmp)')
    .option('-P, --port <port>', 'Port')
    .option('-j, --action <action>', 'Action to take (allow or deny)', 'allow')
    .action(
      action(rt, { min: 2, max: 2, missing: 'Policy name and Rule ID required' }, async ({ args, opts, client }) => {
        const tenant = checkName(str(opts, 'tenant'), 'tenant');
        const name = checkName(args[0], 'policy');
        const ruleId = checkName(args[1], 'rule id');
        const direction = str(opts, 'direction');
        const o = {
          fromGroup: str(opts, 'fromGroup'),
          toGroup: str(opts, 'toGroup'),
          fromNetwork: str(opts, 'fromNetwork'),
          toNetwork: str(opts, 'toNetwork'),
          fromIp: checkRuleAddress(str(opts, 'fromIpAddress'), '--from-ip-address'),
        };
        checkRuleDirection(direction, o);
        const toIp = checkRuleAddress(str(opts, 'toIpAddress'), '--to-ip-address');
        const priority = intOption(str(opts, 'priority'), '--priority', 1, 1, 100);
        const port = intOption(opts['port'] as string | undefined, '--port', 0, 0, 65535);
        const protocol = str(opts, 'protocol');
        if (protocol !== '' && !['tcp', 'udp', 'icmp'].includes(protocol) && !/^\d{1,3}$/.test(protocol)) {
          throw new UsageError(`invalid value '${protocol}' for --protocol: must be tcp, udp, icmp or a protocol number`, 'protocol');
        }
        if (/^\d+$/.test(protocol) && Number(protocol) > 255)
          throw new UsageError(`invalid value '${protocol}' for --protocol: protocol numbers are 0..255`, 'protocol');
        const act = oneOf(str(opts, 'action'), '--action', ['allow', 'deny']) ?? '';
        await client().post(
          `/api/v1/${KINDS.rule.collection}/${tenant}:${name}:${ruleId}/`,
          ruleBody({
            tenantName: tenant,
            policyName: name,
            ruleId,
            priority,
            direction,
            fromEndpointGroup: o.fromGroup,
            toEndpointGroup: o.toGroup,
            fromNetwork: o.fromNetwork,
            toNetwork: o.toNetwork,
            fromIpAddress: o.fromIp,
            toIpAddress: toIp,
            protocol,
            port,
            action: act,
          }),
        );
      }),
    );
}
