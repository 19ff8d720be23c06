/** `netctl netprofile create|rm|ls|inspect` (REST collection `netprofiles`, key `tenant:profile`). */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { MAX_BURST_KBYTES } from '../../lib/kinds/netprofile';
import { addInspect, addTenantLs } from '../kind-commands';
import { str as field, type JsonObject } from '../client';
import { action, str, tenantOption, type Runtime } from '../context';
import { goInt, tabwrite } from '../format';
import { netprofileBody } from '../bodies';
import { UsageError } from '../errors';
import { checkName, intOption } from '../validate';

const KIND = KINDS.netprofile;

/** Contiv's bandwidth column: the first number and a unit from the letters g/m/k (e.g. `10mbps` -> `10Mbps`). */
export function bandwidthCell(bw: string): string {
  const digits = /[0-9]+/.exec(bw)?.[0] ?? '';
  let unit = '';
  if (/[g|G]/.test(bw)) unit = 'Gbps';
  else if (/[m|M]/.test(bw)) unit = 'Mbps';
  else if (/[k|K]/.test(bw)) unit = 'Kbps';
  return digits + unit;
}

function profileRow(p: JsonObject): string {
  const bw = field(p, 'bandwidth');
  if (bw !== '')
    return [field(p, 'profileName'), field(p, 'tenantName'), bandwidthCell(bw), goInt(p['DSCP']), goInt(p['burst'])].join('\t') + '\n';
  return [field(p, 'profileName'), field(p, 'tenantName'), bw, goInt(p['DSCP'])].join('\t') + '\n';
}

export function registerNetprofile(program: Command, rt: Runtime): void {
  const np = program.command('netprofile').description('Network profile manipulation tools');

  tenantOption(np.command('create').description('Create a network profile').argument('[netprofile]'))
    .option('-b, --bandwidth <bandwidth>', 'Bandwidth (e.g., 10 kbps, 100 mbps, 1gbps)')
    .option('-d, --dscp <dscp>', 'DSCP')
    .option('-s, --burst <kbytes>', 'burst size(Must be in kilobytes)')
    .action(
      action(rt, { min: 1, max: 1, missing: 'Net profile name required' }, async ({ args, opts, client, out }) => {
        const tenant = checkName(str(opts, 'tenant'), 'tenant');
        const name = checkName(args[0], 'netprofile');
        const bandwidth = str(opts, 'bandwidth');
        if (bandwidth !== '' && !/^\d+\s*[kmgKMG]?bps$/.test(bandwidth)) {
          throw new UsageError(`invalid value '${bandwidth}' for --bandwidth: expected e.g. 500kbps, 10mbps, 1gbps`, 'bandwidth');
        }
        const dscp = intOption(opts['dscp'] as string | undefined, '--dscp', 0, 0, 63);
        const burst = intOption(opts['burst'] as string | undefined, '--burst', 0, 0, MAX_BURST_KBYTES);
        await client().post(
          `/api/v1/${KIND.collection}/${tenant}:${name}/`,
          netprofileBody({ tenantName: tenant, profileName: name, bandwidth, dscp, burst }),
        );
        out(`Creating netprofile ${tenant}:${name}\n`);
      }),
    );

  tenantOption(np.command('rm').alias('delete').description('Delete a network profile').argument('[netprofile]')).action(
    action(rt, { min: 1, max: 1, missing: 'Net profile name required' }, async ({ args, opts, client }) => {
      const tenant = checkName(str(opts, 'tenant'), 'tenant');
      const name = checkName(args[0], 'netprofile');
      await client().delete(`/api/v1/${KIND.collection}/${tenant}:${name}/`);
    }),
  );

  addTenantLs(np, rt, KIND, {
    description: 'List network profile',
    table: (items) =>
      tabwrite(
        'Name\tTenant\tBandwidth\tDSCP\tburst size\n------\t------\t---------\t--------\t----------\n' + items.map(profileRow).join(''),
      ),
  });

  addInspect(np, rt, KIND, {
    description: 'inspect network profile',
    argument: '[netprofile]',
    missing: 'Net profile name required',
    what: 'netprofile',
  });
}
