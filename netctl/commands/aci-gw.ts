/** `netctl aci-gw set|inspect|info` (REST collection `aciGws`, the single key `aciGw`). */
import type { Command } from 'commander';
import { asList, asObject, str as field, type JsonObject } from '../client';
import { action, listOptions, outputOption, str, type Runtime } from '../context';
import { render, toJson, toYaml } from '../format';
import { aciGwBody } from '../bodies';
import { isNetloomError } from '../../lib/errors';
import { oneOf } from '../validate';

export function registerAciGw(program: Command, rt: Runtime): void {
  const gw = program.command('aci-gw').description('ACI Gateway information');

  listOptions(gw.command('info').description('Show aci gateway information'), { tenant: true, all: true, json: true }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const items = asList(await client().get('/api/v1/aciGws/'));
      const text = (): string =>
        items
          .map(
            (g) =>
              `Path bindings: ${field(g, 'pathBindings')}\n` +
              `Node bindings: ${field(g, 'nodeBindings')}\n` +
              `Physical domain: ${field(g, 'physicalDomain')}\n` +
              `Enforce policies: ${field(g, 'enforcePolicies')}\n` +
              `Include Common-Tenant: ${field(g, 'includeCommonTenant')}\n`,
          )
          .join('');
      out(render(opts, items, text));
    }),
  );

  outputOption(gw.command('inspect').description('Inspect aci gateway operational information')).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const v = await client().get('/api/v1/inspect/aciGws/aciGw/');
      out(opts['output'] === 'yaml' ? toYaml(v) : toJson(v));
    }),
  );

  gw.command('set')
    .description('Set aci-gw parameters')
    .option('-p, --path-bindings <paths>', 'Blank or  Comma separated paths of the form topology/pod-1/paths-101/pathep-[eth1/14]')
    .option('-n, --node-bindings <nodes>', 'Blank or  Comma separated nodes of the form topology/pod-1/node-101')
    .option('-d, --phys-dom <domain>', 'ACI physical domain name (e.g. containerDom)')
    .option('-e, --enforce-policies <yes|no>', 'Should security policies be enforced (yes,no)', 'yes')
    .option('-i, --include-common-tenant <yes|no>', 'Should gateway look up objects in common tenant as well(yes,no)', 'no')
    .action(
      action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client }) => {
        const enforcePolicies = oneOf(str(opts, 'enforcePolicies'), '--enforce-policies', ['yes', 'no']) ?? '';
        const includeCommonTenant = oneOf(str(opts, 'includeCommonTenant'), '--include-common-tenant', ['yes', 'no']) ?? '';
        const c = client();
        let current: JsonObject | undefined;
        try {
          current = asObject(await c.get('/api/v1/aciGws/aciGw/'));
        } catch (e) {
          // Contiv started from a fresh object when the read failed; only an unreachable server is fatal
          if (isNetloomError(e, 'UNAVAILABLE') || isNetloomError(e, 'TIMEOUT')) throw e;
          current = undefined;
        }
        await c.post(
          '/api/v1/aciGws/aciGw/',
          aciGwBody(current, {
            enforcePolicies,
            includeCommonTenant,
            nodeBindings: str(opts, 'nodeBindings'),
            pathBindings: str(opts, 'pathBindings'),
            physicalDomain: str(opts, 'physDom'),
          }),
        );
      }),
    );
}
