/**
 * The lab's BGP fabric (`netloom-lab up --bgp`, docs/bgp.md): BIRD 2 in the `tor` namespace as a
 * route reflector. Every host and the tor share one AS (65000) over iBGP: the tor reflects each
 * host's routes to the others with the next hop unchanged (the host's data address, on the same
 * data network), so traffic between hosts goes straight across br-data, not through the tor,
 * and one cluster-wide default (AS 65000, neighbor the tor) serves every host with no Bgp object
 * each. The tor installs what it learns in its kernel (ECMP), so it reaches containers directly.
 * The configuration is data (pure, from the lab plan); one function starts BIRD, one asks it.
 */
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { output, spawnDaemon } from '../../lib/exec';
import { waitFor } from '../../lib/clock';
import { isAlive } from '../../lib/process';
import { NetloomError } from '../../lib/errors';
import { DEFAULT_HOLD_TIME, DEFAULT_KEEPALIVE_TIME } from '../../lib/bgp/settings';
import type { LabPlan } from './plan';

/** The fabric's AS: the tor's and, through the cluster-wide default, every host's. */
export const LAB_AS = 65000;
export const BIRD_PROGRAM = 'bird';
export const BIRD_ROLE = 'tor/bird';

export interface BirdPaths {
  dir: string;
  config: string;
  socket: string;
  log: string;
}

export function birdPaths(plan: Pick<LabPlan, 'dir'>): BirdPaths {
  const dir = `${plan.dir}/tor`;
  return { dir, config: `${dir}/bird.conf`, socket: `${dir}/bird.ctl`, log: `${dir}/bird.log` };
}

/** One BGP session of the tor: BIRD's protocol name, the host's data address, its AS. */
export interface BirdNeighbor {
  protocol: string;
  host: string;
  address: string;
  as: number;
}

export function birdNeighbors(plan: Pick<LabPlan, 'hosts'>): BirdNeighbor[] {
  return plan.hosts.map((h) => ({ protocol: `nl_${h.name}`, host: h.name, address: h.dataIp, as: LAB_AS }));
}

/** The cluster-wide BGP default matching the tor (the global object's fields, docs/bgp.md). */
export function labBgpDefault(plan: Pick<LabPlan, 'torDataIp'>): Record<string, unknown> {
  return {
    bgpAs: String(LAB_AS),
    bgpNeighbors: [`${plan.torDataIp}:${LAB_AS}`],
    bgpHoldTime: DEFAULT_HOLD_TIME,
    bgpKeepaliveTime: DEFAULT_KEEPALIVE_TIME,
  };
}

/** bird.conf for the lab's tor (pure). */
export function birdConfig(plan: Pick<LabPlan, 'torDataIp' | 'dataSubnet' | 'hosts' | 'dir'>): string {
  const lines = [
    `# netloom lab tor: route reflector, AS ${LAB_AS}, one iBGP session per host (deploy/lab/bird.ts)`,
    `router id ${plan.torDataIp};`,
    `log "${birdPaths(plan).log}" all;`,
    'protocol device { scan time 10; }',
    // what the tor learns goes into its kernel, several equal paths as ECMP
    'protocol kernel {',
    '  merge paths on;',
    '  ipv4 { import none; export filter { if source = RTS_BGP then accept; reject; }; };',
    '}',
    'template bgp nl_host {',
    `  local ${plan.torDataIp} as ${LAB_AS};`,
    '  rr client;',
    '  direct;',
    `  hold time ${DEFAULT_HOLD_TIME};`,
    `  keepalive time ${DEFAULT_KEEPALIVE_TIME};`,
    '  connect retry time 2;',
    // a host whose gobgpd was restarted (or killed and restarted by its agent) is taken back at
    // once: BIRD's defaults wait 60-300 s after a session error before accepting it again
    '  connect delay time 1;',
    '  error wait time 1, 3;',
    // hosts' next hops are on the shared data network: used as they are
    '  ipv4 { import all; export all; next hop keep; gateway direct; };',
    '}',
    ...birdNeighbors(plan).map((n) => `protocol bgp ${n.protocol} from nl_host { neighbor ${n.address} as ${n.as}; }`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Write the config and start BIRD in the tor's namespace (foreground, so the PID is BIRD's); returns its PID. */
export function startBird(plan: LabPlan): number {
  const p = birdPaths(plan);
  mkdirSync(p.dir, { recursive: true });
  writeFileSync(p.config, birdConfig(plan));
  const fd = openSync(`${p.dir}/bird.out`, 'a');
  try {
    return spawnDaemon('bird', ['-f', '-c', p.config, '-s', p.socket], { netns: plan.torNetns, logFd: fd });
  } finally {
    closeSync(fd);
  }
}

/** `birdc show status` answers "Daemon is up and running". */
export async function birdUp(plan: Pick<LabPlan, 'dir'>): Promise<boolean> {
  try {
    return /Daemon is up and running/.test(await output('birdc', ['-s', birdPaths(plan).socket, 'show', 'status'], { timeoutMs: 2000 }));
  } catch {
    return false;
  }
}

export async function waitBird(plan: LabPlan, pid: number): Promise<void> {
  await waitFor(
    'BIRD on the tor to answer',
    async () => {
      if (!isAlive(pid)) throw new NetloomError('UNAVAILABLE', `bird exited; see ${birdPaths(plan).dir}/bird.out`);
      return birdUp(plan);
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}

/** One line of `birdc show protocols`: a BGP session's name, state (up/start) and info (Established, Active, Connect...). */
export interface BirdProtocol {
  name: string;
  proto: string;
  state: string;
  info: string;
}

/** `birdc show protocols` as rows (pure). */
export function parseBirdProtocols(text: string): BirdProtocol[] {
  const rows: BirdProtocol[] = [];
  for (const line of text.split('\n')) {
    // Name Proto Table State Since Info; Table is '---' for BGP; Since is a date and a time
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+(?:\s+\d{2}:\d{2}:\d{2}(?:\.\d+)?)?\s*(.*)$/.exec(line);
    if (!m || m[1] === 'Name' || m[1] === 'BIRD') continue;
    rows.push({ name: m[1]!, proto: m[2]!, state: m[4]!, info: (m[5] ?? '').trim() });
  }
  return rows;
}

export async function birdProtocols(plan: Pick<LabPlan, 'dir'>): Promise<BirdProtocol[]> {
  return parseBirdProtocols(await output('birdc', ['-s', birdPaths(plan).socket, 'show', 'protocols'], { timeoutMs: 2000 }));
}
