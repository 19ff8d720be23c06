/**
 * The lab's state file: what `up` made, written as it goes (before each resource is created), so
 * that `down` removes everything even after a crash or a partial `up`.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import type { LabPlan } from './plan';
import { LAB_ROOT } from './plan';

export interface ContainerState {
  name: string;
  host: string;
  netns: string;
  hostVeth: string;
  ip: string;
  vlan?: number;
  /** set for containers made by `run` (through the CNI shim and the host's agent) */
  tenant?: string;
  network?: string;
  group?: string;
  containerId?: string;
}

export interface LabState {
  version: 1;
  plan: LabPlan;
  createdAt: string;
  /** namespaces this lab created (names), in creation order */
  netns: string[];
  /** links created in the root namespace */
  rootLinks: string[];
  /** daemons by role, with the program name checked before signalling */
  pids: Array<{ role: string; pid: number; program: string }>;
  /** OVS instance directories */
  ovsDirs: string[];
  containers: ContainerState[];
  complete: boolean;
  /** true when `up` started one netplugin per host (absent in labs made with --no-agents) */
  agents?: boolean;
  /** true when the agents run with --docker-networks (up --docker-networks) */
  dockerNetworks?: boolean;
  /** true when the agents run with --one-bridge: eth1 and the VTEP address on br-int (up --one-bridge) */
  oneBridge?: boolean;
  /** true when the tor runs BIRD as the hosts' route reflector (up --bgp) */
  bgp?: boolean;
  /** true when the lab runs the Kubernetes API server stand-in (up --kube-api) */
  kubeApi?: boolean;
  /** hosts whose dockerd is in the lab's swarm (`swarm up`; they leave it and lose the managed plugin on down), manager first */
  swarmHosts?: string[];
  /** the lab is a Kubernetes cluster (up --kube): netmaster and agents read the API, one kubelet stand-in per host */
  kube?: { tenantPerNamespace: boolean };
  /** netmaster's ACI gateway towards this APIC (up --apic-url; docs/aci.md), kept for restarts */
  apic?: LabApic;
  /** hosts where `podman` ran (their containers are removed on down) */
  podmanHosts?: string[];
  /** podman/libcni directories outside the lab dir that did not exist before the lab's first podman */
  podmanMade?: string[];
  /** hosts where `kube` (or up --containerd) started containerd (their pods are removed on down) */
  containerdHosts?: string[];
  /** whether /run/containerd (where containerd 1.6 puts its shims' sockets) did not exist before the lab's first containerd */
  containerdMadeRun?: boolean;
  /** the test run that made this lab (NETLOOM_TEST_RUN), so its cleanup touches no other lab */
  testRun?: string;
}

/** The APIC netmaster's ACI gateway reconciles (netmaster --apic-url, --apic-user, --apic-password-file). */
export interface LabApic {
  url: string;
  user: string;
  passwordFile: string;
}

export function newState(plan: LabPlan): LabState {
  const testRun = process.env.NETLOOM_TEST_RUN;
  return {
    version: 1,
    plan,
    createdAt: new Date().toISOString(),
    netns: [],
    rootLinks: [],
    pids: [],
    ovsDirs: [],
    containers: [],
    complete: false,
    ...(testRun ? { testRun } : {}),
  };
}

export function saveState(state: LabState): void {
  mkdirSync(dirname(state.plan.stateFile), { recursive: true });
  const tmp = `${state.plan.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, state.plan.stateFile);
}

export function stateFileOf(name: string, root: string = LAB_ROOT): string {
  return `${root}/${name}/state.json`;
}

export function loadState(name: string, root: string = LAB_ROOT): LabState | undefined {
  const file = stateFileOf(name, root);
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as LabState;
    if (s.version !== 1) throw new Error(`unknown state version ${String(s.version)}`);
    return s;
  } catch (e) {
    throw new NetloomError(
      'INTERNAL',
      `lab state ${file} is unreadable (${(e as Error).message}); remove it after checking 'ip netns list'`,
    );
  }
}

export function requireState(name: string, root: string = LAB_ROOT): LabState {
  const s = loadState(name, root);
  if (!s) throw new NetloomError('NOT_FOUND', `no lab "${name}" is up (no ${stateFileOf(name, root)}); start one with: netloom-lab up`);
  return s;
}

/** Names of labs that have a state file. */
export function listLabs(root: string = LAB_ROOT): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((n) => existsSync(`${root}/${n}/state.json`));
}

/**
 * Run `fn` holding the lab's lock (`<lab dir>/lock`, created atomically with the holder's PID
 * in it), so that commands run at the same time (`run` in a shell loop with `&`) do not lose each
 * other's state-file updates. A lock whose holder is gone is taken over. Waits up to `timeoutMs`.
 */
export async function withLabLock<T>(labDir: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const lock = `${labDir}/lock`;
  const deadline = systemClock.monotonic() + timeoutMs;
  for (;;) {
    // Create the lock with its content in one step (link of a written file): a waiter never sees
    // an empty lock file and mistakes it for a stale one.
    const mine = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(mine, String(process.pid));
    try {
      linkSync(mine, lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const raw = readFileOr(lock);
      if (raw === '') continue; // released meanwhile: try again
      const holder = Number(raw);
      if (!Number.isInteger(holder) || holder <= 0 || !pidAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (systemClock.monotonic() > deadline)
        throw new NetloomError('TIMEOUT', `lab lock ${lock} held by pid ${holder} for more than ${timeoutMs} ms`);
      await systemClock.sleep(20);
    } finally {
      rmSync(mine, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    if (readFileOr(lock) === String(process.pid)) rmSync(lock, { force: true });
  }
}

function readFileOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
