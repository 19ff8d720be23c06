/**
 * A connection policy denied stays denied when ovs-vswitchd restarts, even if its server speaks
 * first (lab `tpkp`: two hosts, real OVS and agents fed by a fabric file, a VLAN network). The
 * userspace datapath's conntrack lives in ovs-vswitchd, so a restart forgets the connection and
 * its denied mark; the server's next segment would be picked up as a connection from the server,
 * which nothing denies (the rule is about connections to it), and the client's segments would be
 * its replies (netplugin/pipeline/features/policy-pickup.ts). A connection between endpoints no
 * policy can deny carries on through the same restarts.
 */
import { strict as assert } from 'node:assert';
import { restartVswitchd, startOvs } from '../../../deploy/lab/ovs-instance';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { EchoStream } from '../../support/echo-stream';
import { AgentLab, hostState, type Ctr, type Scenario } from './support';

const LAB = 'tpkp';
const NET = { tenant: 'pk', network: 'net' };
/** c1 -> s2: the connection the rule will deny (s2's group srv: no tcp/PORT from group cli) */
const C1: Ctr = { name: 'c1', host: 'host1', ...NET, ip: '10.75.1.1', mac: '02:00:00:75:01:01' };
const S2: Ctr = { name: 's2', host: 'host2', ...NET, ip: '10.75.1.2', mac: '02:00:00:75:01:02' };
/** o1 -> p2: no group, no policy */
const O1: Ctr = { name: 'o1', host: 'host1', ...NET, ip: '10.75.1.3', mac: '02:00:00:75:01:03' };
const P2: Ctr = { name: 'p2', host: 'host2', ...NET, ip: '10.75.1.4', mac: '02:00:00:75:01:04' };
const SC: Scenario = {
  encap: 'vlan',
  tenants: [{ name: 'pk', vrfId: 12, ctZone: 75 }],
  networks: [{ tenant: 'pk', name: 'net', tag: 175, subnet: '10.75.1.0/24', gateway: '10.75.1.254', networkId: 1 }],
  containers: [C1, S2, O1, P2],
};
const PORT = 7075;
/** the servers send a line of their own this often: after the deny they have unacknowledged data to retransmit */
const PUSH_MS = 100;

function state(lab: AgentLab, deny: boolean): unknown {
  const base = hostState(lab.plan, SC) as { endpoints: Array<{ id: string }> };
  const groupOf: Record<string, string> = { 'ep-c1': 'pk:cli', 'ep-s2': 'pk:srv' };
  const rule = {
    ruleId: 'r1',
    direction: 'in',
    priority: 10,
    action: 'deny',
    protocol: 'tcp',
    port: PORT,
    fromGroup: 'pk:cli',
    toGroup: '',
    fromNetwork: '',
    toNetwork: '',
    fromIp: '',
    toIp: '',
  };
  return {
    ...base,
    endpoints: base.endpoints.map((e) => ({ ...e, group: groupOf[e.id] ?? '' })),
    groups: [
      { key: 'pk:cli', tenant: 'pk', name: 'cli', network: 'pk:net', groupId: 1, policies: [], netProfile: '', pktTag: 0 },
      { key: 'pk:srv', tenant: 'pk', name: 'srv', network: 'pk:net', groupId: 2, policies: ['ps'], netProfile: '', pktTag: 0 },
    ],
    policies: [{ key: 'pk:ps', tenant: 'pk', name: 'ps', rules: deny ? [rule] : [] }],
  };
}

/** Segments the server's end of its connection on PORT has retransmitted in all (ss's `retrans:N/TOTAL`). */
async function retransmitted(netns: string): Promise<number> {
  const r = await run('ss', ['-tin', 'state', 'established', `( sport = :${PORT} )`], { netns, allowFailure: true });
  const m = /retrans:\d+\/(\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}

describe('a denied connection after ovs-vswitchd restarts (lab: 2 hosts, VLAN)', function () {
  this.timeout(120_000);
  const lab = new AgentLab(LAB);
  const streams: EchoStream[] = [];

  before(async function () {
    this.timeout(120_000);
    await lab.up(2);
    lab.writeState(state(lab, false));
    await Promise.all([lab.startAgent('host1'), lab.startAgent('host2')]);
    for (const c of SC.containers) await lab.plug(c);
  });
  after(async function () {
    this.timeout(60_000);
    for (const s of streams) await s.stop();
    await lab.teardown();
  });

  it('stays denied when the server speaks first, at either host; a connection no policy can deny carries on', async () => {
    for (const server of [S2, P2]) {
      const s = EchoStream.start(lab.ns(server), ['serve', server.name, String(PORT), String(PUSH_MS)]);
      streams.push(s);
      await waitFor(`${server.name} listening`, () => s.lines.includes('ready'), { timeoutMs: 10_000, intervalMs: 20 });
    }
    // clients that never send after the server's name: every line they get is the server's own
    const denied = EchoStream.start(lab.ns(C1), ['client', S2.ip, String(PORT), '3600000']);
    const open = EchoStream.start(lab.ns(O1), ['client', P2.ip, String(PORT), '3600000']);
    streams.push(denied, open);
    await waitFor('both connections carry the servers’ lines', () => denied.echoes >= 3 && open.echoes >= 3, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });

    lab.writeState(state(lab, true));
    let last = -1;
    await waitFor(
      'the rule to cut c1 -> s2 (no line for 1 s)',
      async () => {
        const before = denied.echoes;
        await new Promise((r) => setTimeout(r, 1000));
        last = denied.echoes;
        return last === before;
      },
      { timeoutMs: 15_000, intervalMs: 0 },
    );
    const openBefore = open.echoes;
    await waitFor('o1 -> p2 still carries lines', () => open.echoes > openBefore, { timeoutMs: 5000, intervalMs: 20 });

    // ovs-vswitchd forgets every connection (the denied one's mark with it) on both hosts
    for (const h of ['host2', 'host1']) {
      const x = lab.host(h);
      await restartVswitchd(await startOvs(x.ovsDir, x.netns));
    }
    const openAtRestart = open.echoes;
    const retransAtRestart = await retransmitted(lab.ns(S2));
    await waitFor('o1 -> p2 carries lines again', () => open.echoes > openAtRestart, { timeoutMs: 30_000, intervalMs: 50 });
    // s2 keeps retransmitting what it sent after the cut: two of those after the restarts (each
    // would have been picked up as a connection from s2), unless the connection came back first
    await waitFor(
      's2 to retransmit twice since the restarts (or the denied connection to come back)',
      async () => denied.echoes > last || (await retransmitted(lab.ns(S2))) >= retransAtRestart + 2,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    assert.equal(denied.echoes, last, 'no line of the denied connection came through after the restarts');
    assert.equal(denied.closed, undefined, 'the client is still waiting (the connection was not reset either)');
  });
});
