/**
 * A conjunction + conntrack pipeline installed through our connection (in ovs-ofctl syntax, parsed
 * by the text module) passes and drops real TCP as designed: new connections from c1 to c2 port
 * 5001 are allowed by a two-clause conjunction (source address AND destination port) and committed
 * to conntrack; port 5002 matches only one clause and is dropped; replies pass only because
 * conntrack marks them established.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { OfConnection, connectSwitch } from '../../../ovs/openflow';
import { parseFlow } from '../../../tools/openflow-text/flow-text';
import { run, spawnDaemon } from '../../../lib/exec';
import { stopProcess } from '../../../lib/process';
import { waitFor } from '../../../lib/clock';
import { Container, OfxBridge, addContainer, ofctl, startBridge, stopBridge } from './openflow-lab';

const PIPELINE = [
  'table=0,priority=100,arp,in_port=1,actions=output:2',
  'table=0,priority=100,arp,in_port=2,actions=output:1',
  'table=0,priority=50,ip,actions=ct(table=1)',
  'table=1,priority=100,ct_state=+trk+est,ip,in_port=1,actions=output:2',
  'table=1,priority=100,ct_state=+trk+est,ip,in_port=2,actions=output:1',
  'table=1,priority=90,ct_state=+trk+new,tcp,nw_src=10.52.0.1,actions=conjunction(10,1/2)',
  'table=1,priority=90,ct_state=+trk+new,tcp,tp_dst=5001,actions=conjunction(10,2/2)',
  'table=1,priority=90,ct_state=+trk+new,tcp,conj_id=10,actions=ct(commit),output:2',
  'table=1,priority=0,actions=drop',
];

const MARKER = 'ofx-conntrack-server';
const SERVER = `/* ${MARKER} */ const net = require('net');
for (const port of [5001, 5002]) net.createServer((s) => { s.end('hello from ' + port); }).listen(port, '10.52.0.2');
setTimeout(() => process.exit(0), 120000);`;

/** Connect from `client` to c2:port; resolves with what the server said, or 'timeout'. */
async function tcpTry(client: Container, port: number): Promise<string> {
  const script = `const s = require('net').connect(${port}, '10.52.0.2'); let got = '';
s.on('data', (d) => (got += d)); s.on('end', () => { console.log(got); process.exit(0); });
s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
setTimeout(() => { console.log('timeout'); process.exit(0); }, 2000);`;
  const r = await run('node', ['-e', script], { netns: client.ns, timeoutMs: 10_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
  return r.stdout.trim();
}

describe('OpenFlow conjunction + conntrack pipeline with real TCP', function () {
  this.timeout(60_000);
  let b: OfxBridge | undefined;
  let conn: OfConnection | undefined;
  let c1: Container;
  let serverPid: number | undefined;

  before(async () => {
    b = await startBridge('ct');
    c1 = await addContainer(b, 'c1', 1, '10.52.0.1', '02:00:0a:34:00:01');
    const c2 = await addContainer(b, 'c2', 2, '10.52.0.2', '02:00:0a:34:00:02');
    conn = await connectSwitch(b.mgmt, { timeoutMs: 10_000 });
    const log = openSync(`${b.dir}/server.log`, 'a');
    try {
      serverPid = spawnDaemon('node', ['-e', SERVER], { netns: c2.ns, logFd: log });
    } finally {
      closeSync(log);
    }
    await waitFor('servers listening', async () => (await run('ss', ['-ltn'], { netns: c2.ns })).stdout.includes('10.52.0.2:5002'), {
      timeoutMs: 10_000,
    });
  });
  after(async () => {
    if (serverPid !== undefined) await stopProcess(serverPid, MARKER);
    conn?.close();
    await stopBridge(b);
  });

  it('allows 5001 via the conjunction, drops 5002, and passes replies as established', async () => {
    const c = conn as OfConnection;
    await c.bundle(PIPELINE.map((l) => parseFlow(l)));
    const flows = await c.dumpFlows();
    assert.equal(flows.length, PIPELINE.length);

    assert.equal(await tcpTry(c1, 5001), 'hello from 5001');
    assert.equal(await tcpTry(c1, 5002), 'timeout');

    const ct = await ofctl(b as OfxBridge, ['dump-flows', 'br0', 'table=1']);
    const packets = (re: RegExp): number => Number(/n_packets=(\d+)/.exec(ct.split('\n').find((l) => re.test(l)) ?? '')?.[1] ?? -1);
    assert.ok(packets(/conj_id=10/) >= 1, 'the conj_id flow admitted the new connection');
    assert.ok(packets(/ct_state=\+est\+trk.*in_port=2|in_port=2.*ct_state=\+est\+trk/) >= 1, `replies took the established flow:\n${ct}`);
    assert.ok(packets(/priority=0/) >= 1, 'the SYN to 5002 hit the drop flow');
  });
});
