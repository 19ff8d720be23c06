/**
 * `netctl service create|rm|ls|inspect` (REST collection `serviceLBs`, key `tenant:service`).
 * Contiv's flags (`-s` network, `-l` selector, `-p` port, `-ip`), plus `-n` for the network. `ls`
 * adds each service's address, ports and provider count (from its inspect) to Contiv's columns;
 * `inspect -o table` shows the providers with their hosts, addresses and counters.
 */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addInspect } from '../kind-commands';
import { str as field, type Json, type JsonObject } from '../client';
import { action, addFlagAlias, list, listOptions, repeatable, str, tenantOption, type Runtime } from '../context';
import { goValue, render, tabwrite } from '../format';
import { listTenantScoped, nameLines } from '../listing';
import { serviceBody } from '../bodies';
import { UsageError } from '../errors';
import { checkName, isIP } from '../validate';

const KIND = KINDS.serviceLB;

export function registerService(program: Command, rt: Runtime): void {
  const svc = program.command('service').description('service object creation');

  listOptions(svc.command('ls').alias('list').description('List service objects'), {
    tenant: true,
    all: true,
    json: true,
    quiet: true,
  }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const c = client();
      const items = await listTenantScoped(c, KIND.collection, str(opts, 'tenant') || 'default', opts['all'] === true);
      if (opts['quiet'] === true) return out(nameLines(items, 'serviceName'));
      // the provider count is the service's inspect's (one request per service)
      const withProviders = await Promise.all(
        items.map(async (s): Promise<JsonObject> => {
          const oper = obj(
            obj(await c.get(`/api/v1/inspect/${KIND.collection}/${field(s, 'tenantName')}:${field(s, 'serviceName')}/`))['Oper'],
          );
          return { ...s, numProviders: typeof oper['numProviders'] === 'number' ? oper['numProviders'] : 0 };
        }),
      );
      out(
        render(
          opts,
          withProviders,
          () => serviceTable(withProviders),
          () => nameLines(items, 'serviceName'),
        ),
      );
    }),
  );

  addInspect(svc, rt, KIND, {
    description: 'Inspect a service (its providers, with counters summed over the hosts)',
    argument: '[servicename]',
    missing: 'Service group name required',
    what: 'service',
    table: providersTable,
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
    .option('-s, --network <network>', 'service network name (also -n); its address comes from this network')
    .addOption(repeatable('-l, --selector <key=value>', 'service selector. Usage: --selector=key1=value1 --selector=key2=value2'))
    .addOption(
      repeatable(
        '-p, --port <svcPort:provPort:protocol>',
        'service/provider Port Usage- --port=svcPort1:provPort1:protocol --port=svcPort2:provPort2:protocol',
      ),
    )
    .option('--preferred-ip <ip>', 'preferred ip address (also -ip)');
  addFlagAlias(create, 'ip', 'preferred-ip');
  addFlagAlias(create, 'n', 'network');
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

const obj = (v: Json | undefined): JsonObject => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : ({} as JsonObject));
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const num = (o: JsonObject, k: string): string => (typeof o[k] === 'number' ? String(o[k]) : '0');

/** Contiv's columns, then the address, the ports and the provider count. */
function serviceTable(items: JsonObject[]): string {
  const rows = items.map(
    (s) =>
      [
        field(s, 'serviceName'),
        field(s, 'tenantName'),
        field(s, 'networkName'),
        goValue(s['selectors'] ?? []),
        field(s, 'ipAddress'),
        arr(s['ports']).map(String).join(','),
        num(s, 'numProviders'),
      ].join('\t') + '\n',
  );
  return tabwrite(
    'ServiceName\tTenant\tNetwork\tSelectors\tIP\tPorts\tProviders\n---------\t--------\t-------\t-------\t--\t-----\t---------\n' +
      rows.join(''),
  );
}

/** `-o table` of an inspect: the service, then one line per provider with its counters. */
export function providersTable(inspect: Json): string {
  const v = obj(inspect);
  const oper = obj(v['Oper']);
  const ports = arr(oper['ports'])
    .map(obj)
    .map((p) => `${num(p, 'port')}->${num(p, 'targetPort')}/${field(p, 'protocol')}`)
    .join(',');
  const rows = arr(oper['providers'])
    .map(obj)
    .map(
      (p) =>
        [
          field(p, 'endpointID'),
          field(p, 'homingHost'),
          // a list (Contiv's EndpointOper), a string from netmasters before it
          Array.isArray(p['ipAddress']) ? p['ipAddress'].map(String).join(',') : field(p, 'ipAddress'),
          num(p, 'connections'),
          num(p, 'packets'),
          num(p, 'bytes'),
        ].join('\t') + '\n',
    );
  const warning = field(oper, 'warning');
  return (
    `Service ${field(obj(v['Config']), 'key')}: ${field(oper, 'serviceIP')} ${ports} in ${field(oper, 'network')}, ${num(oper, 'numProviders')} providers\n` +
    (warning ? `Warning: ${warning}\n` : '') +
    tabwrite('Endpoint\tHost\tIP\tConnections\tPackets\tBytes\n--------\t----\t--\t-----------\t-------\t-----\n' + rows.join(''))
  );
}
