/** `netctl bgp create|rm|ls|inspect` (REST collection `Bgps`, key = host name). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { registerBgpInspect } from './bgp-inspect';
import { asList } from '../client';
import { action, listOptions, str, type Runtime } from '../context';
import { render } from '../format';
import { bgpBody } from '../bodies';
import { UsageError } from '../errors';
import { checkName, intOption, isIP, isIPv4Cidr, isIPv6Cidr } from '../validate';
import { MAX_AS, MAX_HOLD_TIME, MIN_HOLD_TIME, parseAs, parseNeighbor } from '../../lib/bgp/settings';
import { kindTable, nameLines } from '../listing';

const KIND = KINDS.Bgp;

function checkAsn(v: string, flag: string): string {
  if (parseAs(v) === undefined) throw new UsageError(`invalid value '${v}' for ${flag}: an AS number 1..${MAX_AS}`, flag);
  return v;
}

/** `IP:AS[,IP:AS...]` (netloom's further neighbors, the default's neighbors), each checked. */
export function neighborsOption(v: string | undefined, flag: string): string[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').filter((n) => n !== '');
  for (const n of list) {
    if (parseNeighbor(n) === undefined)
      throw new UsageError(`invalid value '${n}' for ${flag}: expected IP:AS (e.g. 10.213.1.254:65000)`, flag);
  }
  return list;
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
    .option('--neighbors <list>', 'further neighbors, IP:AS[,IP:AS...]')
    .option('--hold-time <s>', `BGP hold time in seconds (${MIN_HOLD_TIME}..${MAX_HOLD_TIME}; default: the cluster default's, else 9)`)
    .option('--keepalive <s>', "BGP keepalive in seconds (below the hold time; default: the cluster default's, else 3)")
    .action(
      action(rt, { min: 1, max: 1, missing: 'Host name required' }, async ({ args, opts, client }) => {
        const host = checkName(args[0], 'hostname');
        const routerip = str(opts, 'routerIp');
        const as = str(opts, 'as');
        const neighborAs = str(opts, 'neighborAs');
        const neighbor = str(opts, 'neighbor');
        // Contiv's messages first (scripts match them), then the flag and value they are about
        if (!isIPv4Cidr(routerip) && !isIPv6Cidr(routerip))
          throw new UsageError(`Wrong CIDR format. Enter in x.x.x.x/len format (--router-ip '${routerip}')`, 'router-ip');
        if (!isIP(neighbor)) throw new UsageError(`Wrong IP format. Enter in x.x.x.x format (--neighbor '${neighbor}')`, 'neighbor');
        if (as === '' || neighborAs === '') {
          const flag = as === '' ? 'as' : 'neighbor-as';
          throw new UsageError(`Missing attributes (--${flag})`, flag);
        }
        checkAsn(as, '--as');
        checkAsn(neighborAs, '--neighbor-as');
        const neighbors = neighborsOption(opts['neighbors'] as string | undefined, '--neighbors');
        const hold = opts['holdTime'] as string | undefined;
        const keepalive = opts['keepalive'] as string | undefined;
        const holdTime = hold === undefined ? undefined : intOption(hold, '--hold-time', 0, MIN_HOLD_TIME, MAX_HOLD_TIME);
        const keepaliveTime = keepalive === undefined ? undefined : intOption(keepalive, '--keepalive', 0, 1, MAX_HOLD_TIME);
        await client().post(
          `/api/v1/${KIND.collection}/${host}/`,
          bgpBody({ hostname: host, routerip, as, neighbor, neighborAs, neighbors, holdTime, keepaliveTime }),
        );
      }),
    );

  registerBgpInspect(bgp, rt);
}
