/**
 * netloom as a managed (v2) Docker plugin, the only kind swarm mode takes for network and IPAM
 * drivers (a socket-file "legacy" plugin is refused: "legacy plugin ... is not supported in swarm
 * mode"). Built locally, no registry: a directory with `config.json` and a `rootfs` holding one
 * static program, `netloom-plugin-relay`, then `docker plugin create NAME DIR` and `enable`.
 *
 * Why a relay: the plugin logic and its state are the host agent's (netplugin's CNM driver); the
 * plugin only has to put a socket where dockerd expects a v2 plugin's (`/run/docker/plugins/
 * netloom.sock` inside the plugin, bind-mounted by dockerd from its exec root) and forward each
 * connection to the agent's swarm socket (`netplugin --cnm-swarm-socket`, Scope global), whose
 * directory is the plugin's one mount. So the plugin needs no capabilities, no state, and survives
 * agent restarts (dockerd reconnects per call). Host network, as Docker's network plugins use.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../../lib/exec';
import { NetloomError } from '../../lib/errors';

export const PLUGIN_REPO = 'netloom/netloom';
/** the agent's swarm socket directory, as seen by dockerd (settable: `docker plugin set NAME agent-socket-dir.source=DIR`) */
export const AGENT_SOCKET_DIR = '/run/netloom';
export const AGENT_SWARM_SOCKET_NAME = 'cnm-swarm.sock';
export const PLUGIN_SOCKET_NAME = 'netloom.sock';
const RELAY = 'netloom-plugin-relay';
const RELAY_SOURCE = resolve(__dirname, '../../../deploy/docker-plugin/netloom-plugin-relay.c');
/** where install.sh builds it (dist/bin) */
export const RELAY_BINARY = resolve(__dirname, '../../bin', RELAY);

/** The plugin's name with the package's version as its tag, e.g. netloom/netloom:0.1.0 (pure but for reading package.json). */
export function pluginName(): string {
  const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as { version?: unknown };
  const version = typeof pkg.version === 'string' ? pkg.version : 'latest';
  return `${PLUGIN_REPO}:${version}`;
}

/** The plugin's config.json (pure); see Docker's "Plugin Config Version 1 of Plugin V2". */
export function pluginConfig(): Record<string, unknown> {
  return {
    description: "netloom network and IPAM driver: relays Docker's calls to the host's netloom agent",
    documentation: 'https://github.com/netloom/netloom/blob/main/docs/cnm.md',
    entrypoint: [`/${RELAY}`, `/run/docker/plugins/${PLUGIN_SOCKET_NAME}`, `${AGENT_SOCKET_DIR}/${AGENT_SWARM_SOCKET_NAME}`],
    workdir: '/',
    interface: { types: ['docker.networkdriver/1.0', 'docker.ipamdriver/1.0'], socket: PLUGIN_SOCKET_NAME },
    network: { type: 'host' },
    mounts: [
      {
        name: 'agent-socket-dir',
        description: "the directory of the host agent's swarm socket (netplugin --cnm-swarm-socket)",
        source: AGENT_SOCKET_DIR,
        destination: AGENT_SOCKET_DIR,
        type: 'bind',
        options: ['rbind'],
        settable: ['source'],
      },
    ],
    // a unix socket owned by root needs no capability for root to connect
    linux: { capabilities: [] },
  };
}

/** The relay binary: dist/bin's (install.sh), else compiled now into `dir` (a static C program, about a second). */
export async function relayBinary(dir: string): Promise<string> {
  if (existsSync(RELAY_BINARY)) return RELAY_BINARY;
  mkdirSync(dir, { recursive: true });
  const out = join(dir, RELAY);
  if (!existsSync(out)) {
    await run('cc', ['-std=c11', '-O2', '-static', '-Wall', '-Wextra', '-o', `${out}.tmp`, RELAY_SOURCE], { timeoutMs: 120_000 });
    await run('mv', [`${out}.tmp`, out]);
  }
  return out;
}

/** Make the plugin directory (config.json + rootfs) under `dir`, replacing an older one; returns its path. */
export async function buildPluginDir(dir: string): Promise<string> {
  const pluginDir = join(dir, 'plugin');
  rmSync(pluginDir, { recursive: true, force: true });
  const rootfs = join(pluginDir, 'rootfs');
  for (const d of ['run/docker/plugins', AGENT_SOCKET_DIR.slice(1), 'proc', 'dev', 'sys', 'tmp'])
    mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(await relayBinary(dir), join(rootfs, RELAY));
  chmodSync(join(rootfs, RELAY), 0o755);
  writeFileSync(join(pluginDir, 'config.json'), `${JSON.stringify(pluginConfig(), null, 2)}\n`);
  return pluginDir;
}

export interface PluginInstallOptions {
  /** the docker client's environment (DOCKER_HOST...) */
  env: NodeJS.ProcessEnv;
  /** the docker client binary */
  docker: string;
  /** where the plugin directory is built */
  buildDir: string;
  /** the agent's swarm socket directory as dockerd sees it, when not AGENT_SOCKET_DIR */
  agentSocketDir?: string;
}

/** Whether the plugin is installed and enabled on that dockerd; undefined when not installed. */
export async function pluginEnabled(o: Pick<PluginInstallOptions, 'env' | 'docker'>, name = pluginName()): Promise<boolean | undefined> {
  const r = await run(o.docker, ['plugin', 'inspect', '--format', '{{.Enabled}}', name], {
    env: o.env,
    allowFailure: true,
    timeoutMs: 30_000,
  });
  if (r.code !== 0) return undefined;
  return r.stdout.trim() === 'true';
}

/** Create (when missing) and enable the plugin on one dockerd; idempotent. Returns its name. */
export async function installPlugin(o: PluginInstallOptions): Promise<string> {
  const name = pluginName();
  const state = await pluginEnabled(o, name);
  if (state === true) return name;
  if (state === undefined) {
    const dir = await buildPluginDir(o.buildDir);
    await run(o.docker, ['plugin', 'create', name, dir], { env: o.env, timeoutMs: 120_000 });
    if (o.agentSocketDir !== undefined && o.agentSocketDir !== AGENT_SOCKET_DIR)
      await run(o.docker, ['plugin', 'set', name, `agent-socket-dir.source=${o.agentSocketDir}`], { env: o.env, timeoutMs: 30_000 });
  }
  const r = await run(o.docker, ['plugin', 'enable', '--timeout', '60', name], { env: o.env, allowFailure: true, timeoutMs: 90_000 });
  if (r.code !== 0) throw new NetloomError('COMMAND_FAILED', `docker plugin enable ${name}: ${r.stderr.trim() || r.stdout.trim()}`);
  return name;
}

/** Disable and remove the plugin (forced: networks using it are swarm's or gone); absent is fine. */
export async function removePlugin(o: Pick<PluginInstallOptions, 'env' | 'docker'>): Promise<void> {
  const name = pluginName();
  if ((await pluginEnabled(o, name)) === undefined) return;
  await run(o.docker, ['plugin', 'disable', '-f', name], { env: o.env, allowFailure: true, timeoutMs: 60_000 });
  await run(o.docker, ['plugin', 'rm', '-f', name], { env: o.env, allowFailure: true, timeoutMs: 60_000 });
}
