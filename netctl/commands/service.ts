/** `netctl service create|rm|ls|inspect` (REST collection `serviceLBs`, key `tenant:service`). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addInspect, addTenantLs } from '../kind-commands';
import { str as field } from '../client';
import { action, addFlagAlias, list, repeatable, str, tenantOption, type Runtime } from '../context';
import { goValue, tabwrite } from '../format';
import { serviceBody } from '../bodies';
import { UsageError } from '../errors';
import { checkName, isIP } from '../validate';

const KIND = KINDS.serviceLB;

export function registerService(program: Command, rt: Runtime): void {
  const svc = program.command('service').description('service object creation');

  addTenantLs(svc, rt, KIND, {
    description: 'List service objects',
    tenantFallback: 'default',
    table: (items) =>
      tabwrite(
        'ServiceName\tTenant\tNetwork\tSelectors\n---------\t--------\t-------\t-------\n' +
          items
            .map(
              (s) =>
                `${field(s, 'serviceName')}\t${field(s, 'tenantName')}\t${field(s, 'networkName')}\t${goValue(s['selectors'] ?? [])}\t\n`,
            )
            .join(''),
      ),
  });

  addInspect(svc, rt, KIND, {
    description: 'Inspect a service',
    argument: '[servicename]',
    missing: 'Service group name required',
    what: 'service',
  });

  tenantOption(svc.command('rm').alias('delete').description('Delete service object').argument('[servicename]')).action(
    action(rt, { min: 1, max: 1, missing: 'Service name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant') || 'default', 'tenant');
      const name = checkName(args[0], 'service');
      const c = client();
      out(`Deleting Service  ${name},${tenant}\n`);
      await c.delete(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
    }),
  );

  const create = tenantOption(svc.command('create').description('Create Service object').argument('[servicename]'))
    .option('-s, --network <network>', 'service network name')
    .addOption(repeatable('-l, --selector <key=value>', 'service selector. Usage: --selector=key1=value1 --selector=key2=value2'))
    .addOption(
      repeatable(
        '-p, --port <svcPort:provPort:protocol>',
        'service/provider Port Usage- --port=svcPort1:provPort1:protocol --port=svcPort2:provPort2:protocol',
      ),
    )
    .option('--preferred-ip <ip>', 'preferred ip address (also -ip)');
  addFlagAlias(create, 'ip', 'preferred-ip');
  create.action(
    action(rt, { min: 1, max: 1, missing: 'Service name required' }, async ({ args, opts, client, out }) => {
      const tenant = checkName(str(opts, 'tenant') || 'default', 'tenant');
      const name = checkName(args[0], 'service');
      const selectors = list(opts, 'selector');
      const ports = list(opts, 'port');
      for (const s of selectors)
        if (!/^[^=\s]+=[^=\s]*$/.test(s)) throw new UsageError(`invalid value '${s}' for --selector: expected key=value`, 'selector');
      for (const p of ports) {
        const m = /^(\d+):(\d+):(TCP|UDP|tcp|udp)$/.exec(p);
        if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535)
          throw new UsageError(`invalid value '${p}' for --port: expected svcPort:provPort:TCP|UDP`, 'port');
      }
      const ip = str(opts, 'preferredIp');
      if (ip !== '' && !isIP(ip)) throw new UsageError(`invalid value '${ip}' for --preferred-ip: not an IP address`, 'preferred-ip');
      await client().post(
        `/api/v1/${KIND.collection}/${tenant}:${name}/`,
        serviceBody({ tenantName: tenant, serviceName: name, networkName: str(opts, 'network'), ipAddress: ip, selectors, ports }),
      );
      out(`Creating ServiceLB ${tenant}:${name}\n`);
    }),
  );
}
