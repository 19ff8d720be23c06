/**
 * A private dockerd for integration tests, started as the project's ENVIRONMENT.md describes: its
 * own mount namespace with a private /run bind-mounted from `<dir>/run` (so its plugin directory
 * /run/docker/plugins is `<dir>/run/docker/plugins`), its own data root, exec root, pid file and
 * API socket, and no iptables, masquerading or default bridge; optionally inside a network namespace
 * of the test's, so that the interfaces Docker and the plugin make never appear in the root one.
 * Stopped by PID only.
 */
import { closeSync, mkdirSync, openSync, existsSync, rmSync, readFileSync, writeFileSync, rmdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { run, RunResult, spawnDaemon } from '../../../lib/exec';
import { waitFor } from '../../../lib/clock';
import { isAlive, stopProcess } from '../../../lib/process';
import { cgroupDirs, makeRootfs } from '../../../deploy/lab/engines';

const DOCKER_CLIENT = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
export const TEST_IMAGE = 'nlcnm/busybox';

export class PrivateDockerd {
  pid: number | undefined;
  readonly runDir: string;
  readonly apiSocket: string;

  /** `netns`: run dockerd in this network namespace (entered with nsenter, which keeps /sys and its cgroup mounts). */
  /** cgroup parent of the containers (cgroupfs), private to this dockerd and removed with it */
  readonly cgroupParent: string;

  constructor(
    readonly dir: string,
    readonly netns?: string,
  ) {
    this.cgroupParent = `nl-cnm-${basename(dir)}`;
    this.runDir = join(dir, 'run');
    this.apiSocket = join(dir, 'docker.sock');
  }

  /** Where dockerd looks for plugin sockets, seen from the root mount namespace. */
  pluginSocket(name: string): string {
    return join(this.runDir, 'docker', 'plugins', `${name}.sock`);
  }

  /** cgroup directories dockerd makes on its own (`docker` in each hierarchy) that did not exist before */
  private readonly cgroupsBefore = new Set(cgroupDirs('docker').filter((d) => existsSync(d)));

  async start(): Promise<void> {
    for (const d of ['data', 'exec', 'run/docker/plugins']) mkdirSync(join(this.dir, d), { recursive: true });
    // a private config file: the host's /etc/docker/daemon.json is not read, and the trust key
    // dockerd 20.10 writes (default /etc/docker/key.json) stays in our directory
    const config = join(this.dir, 'daemon.json');
    writeFileSync(config, `${JSON.stringify({ 'deprecated-key-path': join(this.dir, 'key.json') })}\n`);
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    const script =
      `mount --bind ${this.runDir} /run && exec dockerd --config-file ${config} --data-root ${join(this.dir, 'data')} --exec-root ${join(this.dir, 'exec')} ` +
      `--pidfile ${join(this.dir, 'dockerd.pid')} -H unix://${this.apiSocket} --iptables=false --ip-masq=false --bridge=none ` +
      `--storage-driver=overlay2 --cgroup-parent /${this.cgroupParent}`;
    try {
      // nsenter, unshare and sh exec into dockerd, so this PID is dockerd's.
      const unshare = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script];
      this.pid = this.netns
        ? spawnDaemon('nsenter', [`--net=/run/netns/${this.netns}`, ...unshare], { logFd: log })
        : spawnDaemon(unshare[0]!, unshare.slice(1), { logFd: log });
    } finally {
      closeSync(log);
    }
    await waitFor('dockerd to answer', async () => (await this.docker(['version', '--format', '{{.Server.Version}}'], true)).code === 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  }

  /** Stop dockerd (SIGTERM, then SIGKILL) and wait for it to exit. */
  async stop(): Promise<void> {
    if (this.pid === undefined) return;
    await stopProcess(this.pid, 'dockerd', 20_000);
    if (isAlive(this.pid)) throw new Error(`dockerd ${this.pid} did not stop`);
    this.pid = undefined;
  }

  docker(args: string[], allowFailure = false, timeoutMs = 60_000): Promise<RunResult> {
    return run(DOCKER_CLIENT, args, {
      env: { ...process.env, DOCKER_HOST: `unix://${this.apiSocket}`, DOCKER_API_VERSION: '1.41' },
      allowFailure,
      timeoutMs,
    });
  }

  /** Import a busybox image (from the host's static busybox) under TEST_IMAGE. */
  async importBusybox(): Promise<void> {
    const rootfs = makeRootfs(this.dir);
    await run('sh', ['-c', `tar -C ${rootfs} -c . | ${DOCKER_CLIENT} import - ${TEST_IMAGE}`], {
      env: { ...process.env, DOCKER_HOST: `unix://${this.apiSocket}`, DOCKER_API_VERSION: '1.41' },
    });
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'dockerd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Remove the directory; dockerd's mounts lived in its own mount namespace and died with it. */
  async removeDir(): Promise<void> {
    // Defensive: unmount anything under dir that is visible here (there should be none).
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(this.dir))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', ['-l', m], { allowFailure: true });
    rmSync(this.dir, { recursive: true, force: true });
    // the (now empty) cgroup directories this dockerd made; rmdir fails on a non-empty one
    for (const d of [...cgroupDirs(this.cgroupParent), ...cgroupDirs('docker').filter((x) => !this.cgroupsBefore.has(x))]) {
      if (existsSync(d)) {
        try {
          rmdirSync(d);
        } catch {
          // in use by someone else: leave it
        }
      }
    }
  }
}
