/**
 * Containers of a lab with agents: `run` makes a namespace and plugs it in through the real CNI
 * shim against the host's netplugin (addresses from netmaster); `rm` runs CNI DEL, then deletes
 * the namespace. Each container is recorded in the state file before it is made.
 */
import { NetloomError } from '../../lib/errors';
import { checkLabels } from '../../lib/labels';
import { agentPaths, containerNetns, LabPlan, validateContainerName, LAB_ROOT } from './plan';
import { ContainerState, requireState, saveState, withLabLock } from './state';
import { addNetns, delNetns } from './netns';
import { cniCall, firstIp } from './cni-call';
import { findHost } from './lab';
import type { LabPortMapping } from './publish';

export interface RunOptions {
  labName: string;
  host: string;
  container: string;
  tenant: string;
  network: string;
  group?: string;
  /** a requested address (no prefix), e.g. 10.1.1.20 */
  ip?: string;
  /** endpoint labels (service selectors match them); checked with lib/labels */
  labels?: Record<string, string>;
  /** ports to publish on the host (CNI portMappings) */
  publish?: LabPortMapping[];
  root?: string;
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The CNI container id of a lab container (pure). */
export function labContainerId(plan: Pick<LabPlan, 'name'>, container: string): string {
  return `lab-${plan.name}-${container}`;
}

function validateRun(o: RunOptions): void {
  validateContainerName(o.container);
  for (const [field, v] of [
    ['tenant', o.tenant],
    ['network', o.network],
    ['group', o.group],
  ] as const) {
    if (v !== undefined && !NAME_RE.test(v))
      throw new NetloomError('INVALID_ARGUMENT', `--${field} "${v}" must be 1-64 letters, digits, _ . -`, { field });
  }
  if (o.labels) checkLabels(o.labels, '--label');
  if (o.ip !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(o.ip)) {
    throw new NetloomError('INVALID_ARGUMENT', `--ip must be an IPv4 address without prefix, like 10.1.1.20; got "${o.ip}"`, {
      field: 'ip',
    });
  }
}

export async function labRun(o: RunOptions): Promise<ContainerState> {
  validateRun(o);
  const dir = requireState(o.labName, o.root ?? LAB_ROOT).plan.dir;
  return withLabLock(dir, () => runLocked(o));
}

async function runLocked(o: RunOptions): Promise<ContainerState> {
  const state = requireState(o.labName, o.root ?? LAB_ROOT);
  if (!state.agents)
    throw new NetloomError('CONFLICT', `lab "${o.labName}" runs no agents (made with --no-agents): use attach`, { field: 'lab' });
  const host = findHost(state.plan, o.host);
  if (state.containers.some((c) => c.name === o.container)) {
    throw new NetloomError('ALREADY_EXISTS', `container "${o.container}" already exists in lab "${state.plan.name}"`, {
      field: 'container',
    });
  }
  const c: ContainerState = {
    name: o.container,
    host: host.name,
    netns: containerNetns(state.plan, o.container),
    hostVeth: '',
    ip: '',
    tenant: o.tenant,
    network: o.network,
    ...(o.group ? { group: o.group } : {}),
    containerId: labContainerId(state.plan, o.container),
  };
  state.containers.push(c);
  saveState(state);
  try {
    await addNetns(c.netns);
    const r = await cniCall({
      command: 'ADD',
      socket: agentPaths(state.plan, host.name).cniSocket,
      containerId: c.containerId ?? '',
      netnsPath: `/run/netns/${c.netns}`,
      tenant: o.tenant,
      network: o.network,
      ...(o.group ? { group: o.group } : {}),
      ...(o.ip ? { ip: o.ip } : {}),
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.publish?.length ? { extra: { runtimeConfig: { portMappings: o.publish } } } : {}),
    });
    const ip = firstIp(r.json);
    if (r.code !== 0 || !ip)
      throw new NetloomError('COMMAND_FAILED', `CNI ADD of ${o.container} on ${host.name} failed: ${r.output.trim()}`);
    c.ip = ip;
    saveState(state);
    return c;
  } catch (e) {
    await rmLocked(o.labName, o.container, o.root).catch(() => undefined);
    throw e;
  }
}

/** CNI DEL (releases the endpoint in netmaster), then the namespace. */
export async function labRm(labName: string, container: string, root?: string): Promise<void> {
  const dir = requireState(labName, root ?? LAB_ROOT).plan.dir;
  await withLabLock(dir, () => rmLocked(labName, container, root));
}

async function rmLocked(labName: string, container: string, root?: string): Promise<void> {
  const state = requireState(labName, root ?? LAB_ROOT);
  const c = state.containers.find((x) => x.name === container);
  if (!c) throw new NetloomError('NOT_FOUND', `no container "${container}" in lab "${labName}"`, { field: 'container' });
  if (c.containerId === undefined)
    throw new NetloomError('CONFLICT', `container "${container}" was made by attach: use detach`, { field: 'container' });
  const r = await cniCall({
    command: 'DEL',
    socket: agentPaths(state.plan, c.host).cniSocket,
    containerId: c.containerId,
    netnsPath: `/run/netns/${c.netns}`,
    tenant: c.tenant ?? 'default',
    network: c.network ?? '',
  });
  if (r.code !== 0)
    throw new NetloomError('COMMAND_FAILED', `CNI DEL of ${container} failed (the namespace is kept; retry rm): ${r.output.trim()}`);
  await delNetns(c.netns);
  state.containers = state.containers.filter((x) => x.name !== container);
  saveState(state);
}
