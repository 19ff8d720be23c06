/** `netctl bgp create|rm|ls|inspect` (REST collection `Bgps`, key = host name). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { addInspect } from '../kind-commands';
import { asList } from '../client';
import { action, listOptions, str, type Runtime } from '../context';
import { render } from '../format';
import { bgpBody } from '../bodies';
import { UsageError } from '../errors';
import { checkName, isIP, isIPv4Cidr, isIPv6Cidr } from '../validate';
import { kindTable, nameLines } from '../listing';

const KIND = KINDS.Bgp;

function checkAsn(v: string, flag: string): string {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 4294967295)
    throw new UsageError(`invalid value '${v}' for ${flag}: an AS number 1..4294967295`, flag);
  return v;
}

export function registerBgp(program: Command, rt: Runtime): void {
  const bgp = program.command('bgp').description('router capability configuration');

  listOptions(bgp.command('ls').alias('list').description('List BGP configuration'), { json: true, quiet: true }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const items = asList(await client().get(`/api/v1/${KIND.collection}/`));
      const table = (): string => kindTable(KIND, items);
      out(render(opts, items, table, () => nameLines(items, KIND.netctl.nameField)));
    }),
  );

  bgp
    .command('rm')
    .alias('delete')
    .description('Delete BGP configuration')
    .argument('[hostname]')
    .action(
      action(rt, { min: 1, max: 1, missing: 'Host name required' }, async ({ args, client, out }) => {
        const host = checkName(args[0], 'hostname');
        const c = client();
        out(`Deleting Bgp router config: ${host}\n`);
        await c.delete(`/api/v1/${KIND.collection}/${host}/`);
      }),
    );

  bgp
    .command('create')
    .description('Add BGP configuration.')
    .argument('[hostname]')
    .option('--router-ip <cidr>', 'BGP my-router ip ')
    .option('--as <asn>', 'Self AS id')
    .option('--neighbor-as <asn>', 'BGP neighbor AS id')
    .option('--neighbor <ip>', 'BGP neighbor to be added')
    .action(
      action(rt, { min: 1, max: 1, missing: 'Host name required' }, async ({ args, opts, client }) => {
        const host = checkName(args[0], 'hostname');
        const routerip = str(opts, 'routerIp');
        const as = str(opts, 'as');
        const neighborAs = str(opts, 'neighborAs');
        const neighbor = str(opts, 'neighbor');
        if (!isIPv4Cidr(routerip) && !isIPv6Cidr(routerip))
          throw new UsageError('Wrong CIDR format. Enter in x.x.x.x/len format', 'router-ip');
        if (!isIP(neighbor)) throw new UsageError('Wrong IP format. Enter in x.x.x.x format', 'neighbor');
        if (as === '' || neighborAs === '') throw new UsageError('Missing attributes', as === '' ? 'as' : 'neighbor-as');
        checkAsn(as, '--as');
        checkAsn(neighborAs, '--neighbor-as');
        await client().post(`/api/v1/${KIND.collection}/${host}/`, bgpBody({ hostname: host, routerip, as, neighbor, neighborAs }));
      }),
    );

  addInspect(bgp, rt, KIND, { description: 'Inspect Bgp', argument: '[hostname]', missing: 'Host name required', what: 'hostname' });
}
