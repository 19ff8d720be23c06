/**
 * A control plane made of one JSON file: the file holds this host's `HostState` (proto camelCase
 * names, as netmaster would send it), the source re-reads it when it changes, and the allocator
 * "creates" an endpoint by finding the one the file already lists for this host and container.
 * This is the fake the integration tests drive (they write consistent files for every agent);
 * `netplugin --fabric-file FILE` uses it instead of netmaster.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import ipaddr from 'ipaddr.js';
import { errorMessage, NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { HostState, Network, parseHostState } from '../state/host-state';
import type { AllocatedEndpoint, DesiredStateSource, EndpointAllocator, EndpointRequest, NetworkCatalog, NetworkLookup } from './fabric';

/** A network of the file's HostState by tenant and name or subnet (pure); NOT_FOUND when absent. */
export function findListedNetwork(state: HostState, ref: NetworkLookup): Network {
  const tenant = ref.tenant || 'default';
  if (!ref.network && !ref.subnet) throw new NetloomError('INVALID_ARGUMENT', 'give the network name or its subnet', { field: 'network' });
  const n = state.networks.find((x) => x.tenant === tenant && (ref.network ? x.name === ref.network : x.subnet === ref.subnet));
  if (!n) {
    const what = ref.network
      ? `network '${ref.network}' of tenant '${tenant}'`
      : `a network of tenant '${tenant}' with subnet ${ref.subnet ?? ''}`;
    throw new NetloomError('NOT_FOUND', `${what} does not exist`, { field: ref.network ? 'network' : 'subnet' });
  }
  if (ref.network && ref.subnet && n.subnet !== ref.subnet) {
    throw new NetloomError('CONFLICT', `network '${ref.network}' of tenant '${tenant}' has subnet ${n.subnet}, not ${ref.subnet}`, {
      field: 'subnet',
    });
  }
  return n;
}

/** Resolve an endpoint request against a HostState listing the endpoint already (pure). */
export function findListedEndpoint(state: HostState, req: EndpointRequest): AllocatedEndpoint {
  const key = `${req.tenant}:${req.network}`;
  const net = state.networks.find((n) => n.key === key);
  if (!net) throw new NetloomError('NOT_FOUND', `network ${key} is not known to this host`, { field: 'network' });
  const ep = state.endpoints.find((e) => e.host === req.host && e.network === key && e.containerId === req.containerId);
  if (!ep)
    throw new NetloomError('NOT_FOUND', `no endpoint for container ${req.containerId} on host ${req.host} in ${key}`, {
      field: 'containerId',
    });
  const prefixLength = net.subnet === '' ? 32 : ipaddr.IPv4.parseCIDR(net.subnet)[1];
  return {
    id: ep.id,
    networkKey: key,
    tenant: net.tenant,
    network: net.name,
    ip: ep.ip,
    prefixLength,
    mac: ep.mac.toLowerCase(),
    gateway: net.gateway,
  };
}

/**
 * How often the file is read again besides the change notifications (a safety net: a notification
 * can be missed on some filesystems). Polling alone had to be fast to follow the tests, and a fast
 * timer wakes the agent all the time, which on a userspace-datapath host competes with the
 * switch for the CPU.
 */
export const FABRIC_FILE_POLL_MS = 1000;

export class FileFabric implements DesiredStateSource, EndpointAllocator, NetworkCatalog {
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private lastText = '';
  private state: HostState | undefined;

  constructor(
    private readonly path: string,
    private readonly opts: { pollMs?: number; logger?: Logger } = {},
  ) {}

  get connected(): boolean {
    return this.state !== undefined;
  }

  async start(onState: (state: HostState) => void): Promise<void> {
    const poll = (): void => {
      let text: string;
      try {
        text = readFileSync(this.path, 'utf8');
      } catch (e) {
        if (this.lastText !== '') this.opts.logger?.warn({ err: errorMessage(e), path: this.path }, 'fabric file unreadable');
        return;
      }
      if (text === this.lastText) return;
      this.lastText = text;
      try {
        this.state = parseHostState(JSON.parse(text));
      } catch (e) {
        this.opts.logger?.error(
          { err: errorMessage(e), path: this.path },
          'fabric file is not a valid HostState; keeping the previous one',
        );
        return;
      }
      onState(this.state);
    };
    poll();
    // the directory, not the file: a writer that renames a new file in replaces the file's inode
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) poll();
      });
      this.watcher.on('error', (e) =>
        this.opts.logger?.warn({ err: errorMessage(e), path: this.path }, 'fabric file watch failed; polling'),
      );
    } catch (e) {
      this.opts.logger?.warn({ err: errorMessage(e), path: this.path }, 'fabric file cannot be watched; polling');
    }
    this.timer = setInterval(poll, this.opts.pollMs ?? FABRIC_FILE_POLL_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  async create(req: EndpointRequest): Promise<AllocatedEndpoint> {
    if (!this.state) throw new NetloomError('UNAVAILABLE', `fabric file ${this.path} not read yet`);
    return findListedEndpoint(this.state, req);
  }

  /** The file is the whole control plane: its networks are all there are. */
  async lookupNetwork(ref: NetworkLookup): Promise<Network> {
    if (!this.state) throw new NetloomError('UNAVAILABLE', `fabric file ${this.path} not read yet`);
    return findListedNetwork(this.state, ref);
  }

  async listNetworks(): Promise<Network[]> {
    if (!this.state) throw new NetloomError('UNAVAILABLE', `fabric file ${this.path} not read yet`);
    return [...this.state.networks].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The file lists the endpoints: deleting one is the test's job (it rewrites the file). */
  async delete(): Promise<void> {
    // nothing to release
  }
}
