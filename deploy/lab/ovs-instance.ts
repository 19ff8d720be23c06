/**
 * One private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath) with its own run, db,
 * log and sysconf directories, optionally inside a network namespace. Used by the lab for every
 * simulated host and by tests that need a real switch.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { run, RunOptions } from '../../lib/exec';
import { waitFor } from '../../lib/clock';
import { isAlive, stopProcess } from '../../lib/process';
import { NetloomError } from '../../lib/errors';

export const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface OvsInstance {
  dir: string;
  netns: string | undefined;
  runDir: string;
  dbSock: string;
  env: NodeJS.ProcessEnv;
  ovsdbPid: number;
  vswitchdPid: number;
}

/** The environment that points ovs-vsctl, ovs-ofctl and ovs-appctl at the instance in `dir`. */
export function ovsEnv(dir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, OVS_RUNDIR: `${dir}/run`, OVS_LOGDIR: `${dir}/log`, OVS_DBDIR: `${dir}/db`, OVS_SYSCONFDIR: `${dir}/etc` };
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** PIDs recorded in the instance's pidfiles, whether or not the processes still run. */
export function ovsPids(dir: string): { ovsdb: number | undefined; vswitchd: number | undefined } {
  return { ovsdb: readPid(`${dir}/run/ovsdb-server.pid`), vswitchd: readPid(`${dir}/run/ovs-vswitchd.pid`) };
}

async function startVswitchd(dir: string, netns: string | undefined, env: NodeJS.ProcessEnv): Promise<number> {
  await run(
    'ovs-vswitchd',
    [
      `unix:${dir}/run/db.sock`,
      `--pidfile=${dir}/run/ovs-vswitchd.pid`,
      `--log-file=${dir}/log/ovs-vswitchd.log`,
      '--detach',
      '--no-chdir',
    ],
    { netns, env },
  );
  const pid = ovsPids(dir).vswitchd;
  if (pid === undefined) throw new NetloomError('COMMAND_FAILED', `ovs-vswitchd in ${dir} wrote no pidfile`);
  return pid;
}

export interface StartOvsOptions {
  /**
   * other_config:userspace-tso-enable=true before ovs-vswitchd starts (OVS reads it at start:
   * set later, only ports opened afterwards get offloads)
   */
  userspaceTso?: boolean;
}

/** Start (or adopt, when already running) the instance in `dir`. */
export async function startOvs(dir: string, netns?: string, o: StartOvsOptions = {}): Promise<OvsInstance> {
  for (const sub of ['run', 'db', 'log', 'etc/openvswitch']) mkdirSync(`${dir}/${sub}`, { recursive: true });
  const env = ovsEnv(dir);
  const opts: RunOptions = { netns, env };
  const pids = ovsPids(dir);
  if (!existsSync(`${dir}/db/conf.db`)) await run('ovsdb-tool', ['create', `${dir}/db/conf.db`, OVS_SCHEMA], opts);
  if (pids.ovsdb === undefined || !isAlive(pids.ovsdb)) {
    await run(
      'ovsdb-server',
      [
        `${dir}/db/conf.db`,
        `--remote=punix:${dir}/run/db.sock`,
        '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
        `--pidfile=${dir}/run/ovsdb-server.pid`,
        `--log-file=${dir}/log/ovsdb-server.log`,
        `--unixctl=${dir}/run/ovsdb-server.ctl`,
        '--detach',
        '--no-chdir',
      ],
      opts,
    );
    await run('ovs-vsctl', ['--no-wait', 'init'], opts);
    await run(
      'ovs-vsctl',
      ['--no-wait', 'set', 'Open_vSwitch', '.', `external_ids:system-id=${netns ?? 'root'}-${process.hrtime.bigint().toString(36)}`],
      opts,
    );
  }
  let vswitchdPid = pids.vswitchd;
  if (vswitchdPid === undefined || !isAlive(vswitchdPid)) {
    if (o.userspaceTso) await run('ovs-vsctl', ['--no-wait', 'set', 'Open_vSwitch', '.', 'other_config:userspace-tso-enable=true'], opts);
    vswitchdPid = await startVswitchd(dir, netns, env);
  }
  const ovsdbPid = ovsPids(dir).ovsdb;
  if (ovsdbPid === undefined) throw new NetloomError('COMMAND_FAILED', `ovsdb-server in ${dir} wrote no pidfile`);
  return { dir, netns, runDir: `${dir}/run`, dbSock: `${dir}/run/db.sock`, env, ovsdbPid, vswitchdPid };
}

/** Run ovs-vsctl (or another OVS tool) against the instance. */
export async function ovsCtl(
  inst: Pick<OvsInstance, 'netns' | 'env'>,
  tool: 'ovs-vsctl' | 'ovs-ofctl' | 'ovs-appctl',
  args: string[],
): Promise<string> {
  return (await run(tool, ['--timeout=10', ...args], { netns: inst.netns, env: inst.env })).stdout;
}

/** True when both daemons run and ovs-vswitchd answers through its control socket. */
export async function ovsHealthy(inst: Pick<OvsInstance, 'dir' | 'netns' | 'env'>): Promise<boolean> {
  const pids = ovsPids(inst.dir);
  if (pids.ovsdb === undefined || pids.vswitchd === undefined || !isAlive(pids.ovsdb) || !isAlive(pids.vswitchd)) return false;
  const r = await run('ovs-appctl', ['--timeout=5', '-t', `${inst.dir}/run/ovs-vswitchd.${pids.vswitchd}.ctl`, 'version'], {
    netns: inst.netns,
    env: inst.env,
    allowFailure: true,
  });
  return r.code === 0;
}

/** Restart ovs-vswitchd only (the database and its contents stay). */
export async function restartVswitchd(inst: OvsInstance): Promise<OvsInstance> {
  await stopProcess(inst.vswitchdPid, 'ovs-vswitchd');
  const vswitchdPid = await startVswitchd(inst.dir, inst.netns, inst.env);
  const next = { ...inst, vswitchdPid };
  await waitFor('ovs-vswitchd to answer after restart', () => ovsHealthy(next), { timeoutMs: 10_000 });
  return next;
}

/** Stop both daemons of the instance in `dir` (by their pidfiles; only if they are ours). */
export async function stopOvs(dir: string): Promise<void> {
  const pids = ovsPids(dir);
  if (pids.vswitchd !== undefined) await stopProcess(pids.vswitchd, 'ovs-vswitchd');
  if (pids.ovsdb !== undefined) await stopProcess(pids.ovsdb, 'ovsdb-server');
}
