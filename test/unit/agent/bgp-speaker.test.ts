/**
 * The agent BGP speaker's pure edges: its metrics (read from the speaker's status at each scrape,
 * one status per scrape), its status as it travels to netmaster (uptime in seconds at the agent),
 * and the kernel routes it reports (`ip -j route show proto 80`).
 */
import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { registerBgpMetrics } from '../../../netplugin/agent/bgp-metrics';
import { bgpStatusToProto } from '../../../netplugin/agent/bgp-inspect-wire';
import { BgpSpeaker, parseInstalled, type SpeakerStatus } from '../../../netplugin/agent/bgp-speaker';
import { createLogger } from '../../../lib/logger';
import { parseHostState } from '../../../netplugin/state/host-state';
import type { PeerStatus } from '../../../netplugin/bgp/gobgp-client';

function peer(address: string, over: Partial<PeerStatus> = {}): PeerStatus {
  return {
    address,
    peerAsn: 65000,
    localAsn: 65001,
    state: 'ESTABLISHED',
    adminDown: false,
    uptimeSince: 1_000_000,
    holdTimeS: 9,
    negotiatedHoldTimeS: 9,
    received: 3,
    accepted: 3,
    advertised: 1,
    addPathsReceive: true,
    ...over,
  };
}

const status: SpeakerStatus = {
  running: true,
  error: '',
  pid: 77,
  asn: 65001,
  routerId: '10.0.0.1',
  neighbors: [peer('10.0.0.254'), peer('10.0.0.77', { state: 'ACTIVE', uptimeSince: undefined, negotiatedHoldTimeS: 0 })],
  announced: [{ prefix: '10.60.0.0/26', nextHop: '10.0.0.1' }],
  installed: [
    { prefix: '10.60.0.64/26', nextHops: ['10.0.0.2'] },
    { prefix: '10.60.0.128/26', nextHops: ['10.0.0.3', '10.0.0.4'] },
  ],
};

describe('agent BGP speaker: metrics, wire form, installed routes', () => {
  it('metrics: sessions by state, paths announced, routes installed, up; one status read per scrape', async () => {
    const registry = new Registry();
    let reads = 0;
    let now = status;
    registerBgpMetrics(registry, async () => {
      reads++;
      return now;
    });
    const text = await registry.metrics();
    assert.match(text, /netplugin_bgp_sessions\{state="ESTABLISHED"\} 1/);
    assert.match(text, /netplugin_bgp_sessions\{state="ACTIVE"\} 1/);
    assert.match(text, /netplugin_bgp_sessions\{state="IDLE"\} 0/);
    assert.match(text, /netplugin_bgp_paths_announced 1/);
    assert.match(text, /netplugin_bgp_routes_installed 2/);
    assert.match(text, /netplugin_bgp_up 1/);
    assert.equal(reads, 1);
    now = { ...status, running: false, neighbors: [], announced: [], installed: [] };
    await new Promise((r) => setImmediate(r));
    const after = await registry.metrics();
    assert.match(after, /netplugin_bgp_up 0/);
    assert.match(after, /netplugin_bgp_sessions\{state="ESTABLISHED"\} 0/);
    assert.equal(reads, 2);
  });

  it('wire form: uptime in whole seconds for established sessions only, one next hop per announced path', () => {
    const w = bgpStatusToProto('h1', status, 1_000_000 + 65_400);
    assert.equal(w.host, 'h1');
    assert.equal(w.neighbors?.[0]?.uptimeSeconds, 65);
    assert.equal(w.neighbors?.[1]?.uptimeSeconds, 0);
    assert.equal(w.neighbors?.[1]?.state, 'ACTIVE');
    assert.deepEqual(w.announced, [{ prefix: '10.60.0.0/26', nextHops: ['10.0.0.1'] }]);
    assert.deepEqual(w.installed, status.installed);
    assert.equal(bgpStatusToProto('h1', { ...status, pid: undefined }, 0).pid, 0);
  });

  it('installed routes: a /32 gets its length, ECMP routes list every next hop, junk gives none', () => {
    const text = JSON.stringify([
      { dst: '10.60.9.9', gateway: '10.0.0.2', protocol: '80' },
      { dst: '10.60.0.0/26', nexthops: [{ gateway: '10.0.0.2' }, { gateway: '10.0.0.3' }] },
      { gateway: '10.0.0.9' },
    ]);
    assert.deepEqual(parseInstalled(text), [
      { prefix: '10.60.9.9/32', nextHops: ['10.0.0.2'] },
      { prefix: '10.60.0.0/26', nextHops: ['10.0.0.2', '10.0.0.3'] },
    ]);
    assert.deepEqual(parseInstalled(''), []);
    assert.deepEqual(parseInstalled('not json'), []);
  });

  it('a gobgpd that cannot be started: the error is shown, nothing is left half running, the next state tries again', async () => {
    const calls: string[][] = [];
    const sp = new BgpSpeaker({
      hostName: 'h1',
      vtepIp: '10.0.0.1',
      supervisor: { api: 'unix:///tmp/nl-no-gobgpd-test.sock', binary: '/nonexistent/gobgpd' },
      runner: async (cmd, args) => {
        calls.push([cmd, ...args]);
        return { code: 0, stdout: '[]', stderr: '' };
      },
      logger: createLogger('t', { level: 'silent' }),
    });
    const state = (as: number) => parseHostState({ bgp: { hostname: 'h1', routerIp: '', as, neighbor: '10.0.0.254', neighborAs: 65000 } });
    await sp.update(state(65001));
    assert.equal(sp.gobgpd, undefined);
    const st = await sp.status();
    assert.equal(st.running, false);
    assert.match(st.error, /could not start \/nonexistent\/gobgpd/);
    assert.equal(sp.current, undefined, 'forgotten, so that the next state starts it again');
    await sp.update(state(65001));
    assert.match((await sp.status()).error, /could not start/);
    await sp.stop();
  });
});
