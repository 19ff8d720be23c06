/**
 * The lab's BGP fabric (issue 16): `netloom-lab up --bgp` runs BIRD 2 in the tor's namespace as
 * the hosts' route reflector, configured from the lab plan (one iBGP session per host, to its
 * data address, AS 65000), `status` shows it and its sessions, netmaster holds the matching
 * cluster-wide default (hosts need no Bgp object), and `down` stops it. No agent speaks BGP yet,
 * so the sessions wait (Active/Connect); a gobgpd started by hand on host1 shows one reaching
 * Established and a route it announces reaching the tor's kernel.
 */
import { strict as assert } from 'node:assert';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLab } from '../../../deploy/lab/plan';
import { waitFor } from '../../../lib/clock';
import { run, spawnDaemon } from '../../../lib/exec';
import { isAlive, stopProcess } from '../../../lib/process';
import { BIN, labCli } from '../../support/lab-cli';

const LAB = 'tbgp';
const lab = labCli(LAB);
const HOSTS = 3;

interface Status {
  tor: {
    netns: string;
    dataIp: string;
    bird?: {
      pid: number | null;
      healthy: boolean;
      as: number;
      socket: string;
      sessions: Array<{ host: string; address: string; as: number; protocol: string; state: string; info: string }>;
    };
  };
}

describe('lab: up --bgp (BIRD on the tor)', function () {
  this.timeout(120_000);
  const plan = planLab({ name: LAB, hosts: HOSTS, etcdMembers: 1 });
  let status: Status;
  let gobgp: { pid: number; dir: string } | undefined;
  const birdc = (...args: string[]) => run('birdc', ['-s', status.tor.bird!.socket, ...args], { timeoutMs: 5000 });

  before(async function () {
    this.timeout(300_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', String(HOSTS), '--no-agents', '--bgp'], false, 240_000);
    status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as Status;
  });

  async function stopGobgp(): Promise<void> {
    if (!gobgp) return;
    await stopProcess(gobgp.pid, 'gobgpd');
    rmSync(gobgp.dir, { recursive: true, force: true });
    gobgp = undefined;
  }

  after(async function () {
    this.timeout(180_000);
    await stopGobgp();
    await lab(['down'], true, 120_000);
  });

  it('status shows BIRD up with one session per host, to its data address, AS 65000', () => {
    const bird = status.tor.bird;
    assert.ok(bird, 'tor.bird in the status');
    assert.ok(bird.pid !== null && isAlive(bird.pid));
    assert.equal(bird.healthy, true);
    assert.deepEqual(
      bird.sessions.map((s) => [s.host, s.address, s.as]),
      plan.hosts.map((h) => [h.name, h.dataIp, 65000]),
    );
  });

  it('BIRD listens for BGP on the tor, and its configured neighbors are the hosts (birdc show protocols)', async () => {
    const ss = (await run('ip', ['netns', 'exec', plan.torNetns, 'ss', '-ltnH', 'sport', '= :179'])).stdout;
    assert.match(ss, /LISTEN/, 'port 179 open in the tor');
    const protocols = (await birdc('show', 'protocols')).stdout;
    for (const h of plan.hosts) {
      // nobody answers yet: the session waits, it does not hang or fail
      assert.match(protocols, new RegExp(`nl_${h.name}\\s+BGP\\s+---\\s+start\\s+.*(Active|Connect|Idle)`), protocols);
      const all = (await birdc('show', 'protocols', 'all', `nl_${h.name}`)).stdout;
      assert.match(all, new RegExp(`Neighbor address: ${h.dataIp.replace(/\./g, '\\.')}\\b`));
      assert.match(all, /Neighbor AS:\s+65000/);
      assert.match(all, /Local AS:\s+65000/);
    }
  });

  it('the table view names the sessions', async () => {
    const text = (await lab(['status'])).stdout;
    assert.match(text, /tor BIRD \d+ ok: route reflector, AS 65000/);
    for (const h of plan.hosts) assert.match(text, new RegExp(`nl_${h.name}\\s+${h.name}\\s+${h.dataIp.replace(/\./g, '\\.')}\\s+65000`));
  });

  it('netmaster holds the matching cluster-wide BGP default', async () => {
    const info = (await run(`${BIN}/netctl`, ['--lab', LAB, 'global', 'info'])).stdout;
    assert.match(info, new RegExp(`BGP default AS: 65000\\nBGP default neighbors: ${plan.torDataIp.replace(/\./g, '\\.')}:65000\\n`));
    assert.match(info, /BGP hold time: 9\nBGP keepalive: 3\n/);
  });

  it("a BGP speaker on host1 (gobgpd by hand, the hosts' default settings) gets Established, and its route reaches the tor's kernel", async () => {
    const h = plan.hosts[0]!;
    // a bare lab host's data uplink has no address (OVS owns it once an agent runs): give it its data address
    await run('ip', ['netns', 'exec', h.netns, 'ip', 'addr', 'add', `${h.dataIp}/24`, 'dev', 'eth1']);
    const dir = mkdtempSync(join(tmpdir(), 'nl-tbgp-'));
    writeFileSync(
      join(dir, 'gobgpd.toml'),
      [
        '[global.config]',
        '  as = 65000',
        `  router-id = "${h.dataIp}"`,
        '  port = 179',
        '[[neighbors]]',
        '  [neighbors.config]',
        `    neighbor-address = "${plan.torDataIp}"`,
        '    peer-as = 65000',
        '  [neighbors.timers.config]',
        '    hold-time = 9',
        '    keepalive-interval = 3',
        '',
      ].join('\n'),
    );
    const fd = openSync(join(dir, 'gobgpd.log'), 'a');
    try {
      gobgp = {
        dir,
        pid: spawnDaemon('gobgpd', ['-f', join(dir, 'gobgpd.toml'), '--api-hosts', '127.0.0.1:50951', '--pprof-disable'], {
          netns: h.netns,
          logFd: fd,
        }),
      };
    } finally {
      closeSync(fd);
    }
    await waitFor(
      'the tor session with host1 to be Established',
      async () => /nl_host1\s+BGP\s+---\s+up\s+.*Established/.test((await birdc('show', 'protocols')).stdout),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await run('ip', [
      'netns',
      'exec',
      h.netns,
      'gobgp',
      '-p',
      '50951',
      'global',
      'rib',
      'add',
      '-a',
      'ipv4',
      '10.66.1.0/26',
      'nexthop',
      h.dataIp,
    ]);
    await waitFor(
      "the announced block in the tor's kernel via host1",
      async () =>
        (await run('ip', ['netns', 'exec', plan.torNetns, 'ip', 'route', 'show', '10.66.1.0/26'])).stdout.includes(`via ${h.dataIp}`),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const now = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as Status;
    assert.equal(now.tor.bird?.sessions.find((s) => s.host === 'host1')?.info, 'Established');
    await stopGobgp();
  });

  it('down stops BIRD', async () => {
    const pid = status.tor.bird!.pid!;
    await lab(['down'], false, 120_000);
    await waitFor('bird to exit', () => !isAlive(pid), { timeoutMs: 10_000 });
  });
});
