/**
 * `netctl kube policy ls|inspect`, `netctl kube namespace ls|inspect`, `netctl kube service
 * ls|inspect` and `netctl kube endpointslice ls` (issue 19): the Kubernetes NetworkPolicies,
 * namespaces, Services and the Services' EndpointSlices (their ready endpoints, counted) netmaster
 * stores from the Kubernetes API, read only (kubectl is where they are changed). A policy or
 * Service is named `NAMESPACE/NAME` (or NAME with -n).
 */
import type { Command } from 'commander';
import { KINDS, type KindDescriptor } from '../../lib/kinds';
import { asList } from '../client';
import { action, listOptions, optional, outputOption, type Runtime } from '../context';
import { render, toJson, toYaml } from '../format';
import { UsageError } from '../errors';
import { kindTable, nameLines } from '../listing';

/** A Kubernetes name as a path part: lower case letters, digits, '-' and '.' only (its own syntax is checked by netmaster). */
function kubeName(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`${what} required`, what);
  if (!/^[a-z0-9.-]{1,253}$/.test(value))
    throw new UsageError(`invalid ${what} '${value.slice(0, 64)}': a Kubernetes name (a-z, 0-9, '-', '.')`, what);
  return value;
}

function addList(parent: Command, rt: Runtime, kind: KindDescriptor, namespaced: boolean): void {
  const cmd = parent.command('ls').alias('list').description(`List ${kind.label}s`);
  if (namespaced) cmd.option('-n, --namespace <namespace>', 'Only those of this namespace');
  listOptions(cmd, { json: true, quiet: true }).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const ns = optional(opts, 'namespace');
      const all = asList(await client().get(`/api/v1/${kind.collection}/`));
      const items = ns === undefined ? all : all.filter((o) => o['namespace'] === ns);
      out(
        render(
          opts,
          items,
          () => kindTable(kind, items),
          () => nameLines(items, kind.netctl.nameField),
        ),
      );
    }),
  );
}

function addInspect(parent: Command, rt: Runtime, kind: KindDescriptor, namespaced: boolean): void {
  const cmd = parent
    .command('inspect')
    .description(`Inspect a ${kind.label}`)
    .argument(namespaced ? '[namespace/name]' : '[name]');
  if (namespaced) cmd.option('-n, --namespace <namespace>', 'its namespace (else NAMESPACE/NAME)');
  outputOption(cmd).action(
    action(rt, { min: 1, max: 1, missing: `${kind.label} name required` }, async ({ args, opts, client, out }) => {
      const arg = args[0] ?? '';
      const slash = namespaced ? arg.indexOf('/') : -1;
      let key = kubeName(slash < 0 ? arg : arg.slice(slash + 1), 'name');
      if (namespaced) key = `${kubeName(slash < 0 ? optional(opts, 'namespace') : arg.slice(0, slash), 'namespace')}:${key}`;
      const v = await client().get(`/api/v1/inspect/${kind.collection}/${key}/`);
      out(opts['output'] === 'yaml' ? toYaml(v) : toJson(v));
    }),
  );
}

export function registerKube(program: Command, rt: Runtime): void {
  const kube = program.command('kube').description('Kubernetes NetworkPolicies, namespaces and Services (read only: kubectl changes them)');
  const policy = kube.command('policy').alias('networkpolicy').description('Kubernetes NetworkPolicies');
  addList(policy, rt, KINDS.kubeNetworkPolicy, true);
  addInspect(policy, rt, KINDS.kubeNetworkPolicy, true);
  const namespace = kube.command('namespace').alias('ns').description('Kubernetes namespaces and their labels');
  addList(namespace, rt, KINDS.kubeNamespace, false);
  addInspect(namespace, rt, KINDS.kubeNamespace, false);
  const service = kube.command('service').alias('svc').description('Kubernetes Services and their ports');
  addList(service, rt, KINDS.kubeService, true);
  addInspect(service, rt, KINDS.kubeService, true);
  const slice = kube.command('endpointslice').alias('slice').description("Kubernetes Services' EndpointSlices: their ready endpoints");
  addList(slice, rt, KINDS.kubeServiceSlice, true);
}
