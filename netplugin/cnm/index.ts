/**
 * Entry point of the Docker CNM plugin for the agent: `startCnmPlugin({ backend })` loads the
 * saved state, listens on the plugin socket and returns a handle to stop it. See docs/cnm.md.
 */
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { CnmBackend } from './backend';
import type { NetworkDriverConfig } from './network-driver';
import { CnmPlugin } from './plugin';
import { CnmServer, DEFAULT_SOCKET_PATH } from './server';
import { STALE_SWEEP_EVERY_MS } from './stale-endpoints';
import { DEFAULT_STATE_PATH, FileStateStore, StateStore } from './state-store';

export type { CnmBackend } from './backend';
export { endpointLinkNames } from './backend';
export { macForAddress } from './addresses';
export { CnmPlugin } from './plugin';
export { CnmServer, DEFAULT_SOCKET_PATH } from './server';
export { DEFAULT_STATE_PATH, FileStateStore, MemoryStateStore } from './state-store';
export type { StateStore } from './state-store';
export type { NetworkBinding } from './options';

export interface StartCnmPluginOptions {
  backend: CnmBackend;
  /** default /run/docker/plugins/netloom.sock; the file name is the driver name Docker uses */
  socketPath?: string;
  /**
   * a second socket for the managed (v2) plugin's relay (deploy/docker-plugin), answering Scope
   * `global` so that swarm managers allocate its networks (docs/cnm.md, "Swarm"); same plugin and state
   */
  swarmSocketPath?: string;
  /** default /var/lib/netloom/cnm-state.json; ignored when `store` is given */
  statePath?: string;
  /** persist somewhere else (e.g. through the agent) */
  store?: StateStore;
  logger?: Logger;
  driver?: Partial<NetworkDriverConfig>;
  /** for the periodic look for stale endpoints (stale-endpoints.ts); default the system clock */
  clock?: Clock;
}

export interface RunningCnmPlugin {
  plugin: CnmPlugin;
  socketPath: string;
  swarmSocketPath?: string;
  stop(): Promise<void>;
}

export async function startCnmPlugin(opts: StartCnmPluginOptions): Promise<RunningCnmPlugin> {
  const store = opts.store ?? new FileStateStore(opts.statePath ?? DEFAULT_STATE_PATH);
  const plugin = new CnmPlugin({
    backend: opts.backend,
    store,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.driver ? { driver: opts.driver } : {}),
  });
  const socketPath = opts.socketPath ?? DEFAULT_SOCKET_PATH;
  const server = new CnmServer(plugin, socketPath, opts.logger);
  await server.start();
  const swarmServer =
    opts.swarmSocketPath !== undefined ? new CnmServer(plugin, opts.swarmSocketPath, opts.logger, { scope: 'global' }) : undefined;
  try {
    await swarmServer?.start();
  } catch (e) {
    await server.stop();
    throw e;
  }
  const clock = opts.clock ?? systemClock;
  let timer: Timer | undefined;
  let stopped = false;
  const sweepLater = (): void => {
    timer = clock.after(
      STALE_SWEEP_EVERY_MS,
      () => void plugin.sweepStaleEndpoints(clock.monotonic()).then(() => (stopped ? undefined : sweepLater())),
      { unref: true },
    );
  };
  sweepLater();
  return {
    plugin,
    socketPath,
    ...(opts.swarmSocketPath !== undefined ? { swarmSocketPath: opts.swarmSocketPath } : {}),
    stop: async () => {
      stopped = true;
      timer?.cancel();
      await swarmServer?.stop();
      await server.stop();
    },
  };
}
