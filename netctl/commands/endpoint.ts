/**
 * `netctl endpoint inspect ID` (Contiv) and `netctl endpoint ls` (netloom): endpoints are read
 * only; `GET /api/v1/endpoints/` lists them, `GET /api/v1/inspect/endpoints/<id>/` returns one.
 * External endpoints (not containers) are registered here too (external-endpoint.ts).
 */
import type { Command } from 'commander';
import { asList, str as field, type JsonObject } from '../client';
import { action, listOptions, outputOption, optional, type Runtime } from '../context';
import { render, tabwrite, toJson, toYaml } from '../format';
import { checkName } from '../validate';
import { nameLines } from '../listing';
import { endpointRulesTable } from '../realization-tables';
import { addExternalEndpointCommands } from './external-endpoint';

/** An endpoint's fields, whether the server sends Contiv's EndpointOper names or the short ones. */
function ep(o: JsonObject): {
  id: string;
  network: string;
  group: string;
  ip: string;
  mac: string;
  host: string;
  intf: string;
  container: string;
} {
  const ips = o['ipAddress'];
  const ip = Array.isArray(ips) ? ips.filter((x) => typeof x === 'string' && x !== '').join(',') : field(o, 'ipAddress') || field(o, 'ip');
  return {
    id: field(o, 'endpointID') || field(o, 'id'),
    network: field(o, 'network') || field(o, 'networkName'),
    group: field(o, 'endpointGroupKey') || field(o, 'groupName'),
    ip,
    mac: field(o, 'macAddress') || field(o, 'mac'),
    host: field(o, 'homingHost') || (o['external'] === true ? '(external)' : ''),
    intf: field(o, 'intfName'),
    container: field(o, 'containerName') || field(o, 'containerID'),
  };
}

/** The tenant an endpoint belongs to, when the server says so (tenantName, or a `tenant:net` network key). */
function tenantOf(o: JsonObject): string | undefined {
  const t = field(o, 'tenantName');
  if (t !== '') return t;
  const net = field(o, 'network');
  return net.includes(':') ? net.split(':')[0] : undefined;
}

export function registerEndpoint(program: Command, rt: Runtime): void {
  const endpoint = program.command('endpoint').alias('ep').description('Endpoint Inspection');
  addExternalEndpointCommands(endpoint, rt);

  outputOption(endpoint.command('inspect').description('Inspect an Endpoint').argument('[epid]')).action(
    action(rt, { min: 1, max: 1, missing: 'Endpoint name required' }, async ({ args, opts, client, out }) => {
      const id = checkName(args[0], 'endpoint');
      const v = await client().get(`/api/v1/inspect/endpoints/${id}/`);
      const output = opts['output'];
      out(output === 'yaml' ? toYaml(v) : output === 'table' ? endpointRulesTable(v) : toJson(v));
    }),
  );

  listOptions(
    endpoint
      .command('ls')
      .alias('list')
      .description('List endpoints (all tenants unless -t is given)')
      .option('-t, --tenant <tenant>', 'Only endpoints of this tenant')
      .option('-n, --network <network>', 'Only endpoints of this network (NAME with -t, or TENANT:NAME)')
      .option('--host <host>', 'Only endpoints homed on this host'),
    { json: true, quiet: true },
  ).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const tenant = optional(opts, 'tenant');
      const network = optional(opts, 'network');
      const host = optional(opts, 'host');
      const query = new URLSearchParams();
      if (network !== undefined) query.set('network', network.includes(':') ? network : `${tenant ?? 'default'}:${network}`);
      if (host !== undefined) query.set('host', host);
      const qs = query.toString();
      const all = asList(await client().get(`/api/v1/endpoints/${qs === '' ? '' : `?${qs}`}`));
      const items = tenant === undefined ? all : all.filter((o) => tenantOf(o) === tenant);
      const table = (): string =>
        tabwrite(
          'Endpoint ID\tNetwork\tGroup\tIP Address\tMAC Address\tHost\tInterface\tContainer\n' +
            '-----------\t-------\t-----\t----------\t-----------\t----\t---------\t---------\n' +
            items
              .map(ep)
              .map((e) => [e.id, e.network, e.group, e.ip, e.mac, e.host, e.intf, e.container].join('\t') + '\n')
              .join(''),
        );
      out(
        render(opts, items, table, () =>
          nameLines(
            items.map((o) => ({ id: ep(o).id })),
            'id',
          ),
        ),
      );
    }),
  );
}
