/**
 * The overlapping-megaflow bug of Open vSwitch's userspace datapath (before 3.1.3: see
 * netplugin/reconcile/datapath-purge.ts), replayed with real packets on a private OVS, and what
 * netplugin does about it: after the purge, no megaflow keeps the actions of a replaced rule set
 * and the packets take the new rules.
 *
 * The sequence is upstream's (tests/pmd.at, "revalidator modify overlapping flows"): a /24 rule
 * leaves a /24 megaflow; the rule becomes a /16 drop, the /24 megaflow is modified in place and a
 * packet to another address makes an overlapping /16 megaflow; once the /16 subtable is the busier
 * one, the next rule change's modification of the /24 megaflow lands on the /16 one.
 */
import { strict as assert } from 'node:assert';
import { run } from '../../../lib/exec';
import { waitFor } from '../../../lib/clock';
import { UnixctlClient, vswitchdControlPath } from '../../../ovs/unixctl';
import { hasOverlappingMegaflowBug, PurgeAfterChange } from '../../../netplugin/reconcile/datapath-purge';
import { addContainer, Container, ofctl, OfxBridge, startBridge, stopBridge } from './openflow-lab';
import { ovsCtl } from '../../../deploy/lab/ovs-instance';

const NEAR = '10.1.2.2';
const FAR = '10.1.0.2';
const PEER_MAC = '02:00:0a:01:00:02';

describe('the overlapping-megaflow bug of the userspace datapath, with real packets', function () {
  this.timeout(120_000);
  let b: OfxBridge | undefined;
  let src: Container;
  let dst: Container;
  let ctl: UnixctlClient | undefined;

  before(async () => {
    b = await startBridge('mfo');
    src = await addContainer(b, 's1', 1, '10.1.9.1', '02:00:0a:01:09:01');
    dst = await addContainer(b, 'd1', 2, '10.1.9.2', PEER_MAC);
    // the sender reaches both addresses directly, as if they were on its link
    await run('ip', ['route', 'add', '10.1.0.0/16', 'dev', 'eth0'], { netns: src.ns });
    for (const ip of [NEAR, FAR]) await run('ip', ['neigh', 'replace', ip, 'lladdr', PEER_MAC, 'dev', 'eth0'], { netns: src.ns });
    ctl = new UnixctlClient(() => vswitchdControlPath(b!.inst.runDir));
  });
  after(async () => {
    await ctl?.close();
    await stopBridge(b);
  });

  const appctl = (args: string[]) => ovsCtl(b!.inst, 'ovs-appctl', args);
  const replaceFlows = async (flows: string[]) => {
    const file = `${b!.dir}/flows.txt`;
    await run('sh', ['-c', `printf '%s\\n' "$@" > ${file}`, 'sh', ...flows]);
    await ofctl(b!, ['--bundle', 'replace-flows', 'br0', file]);
  };
  const send = (ip: string, count: number) =>
    run('ping', ['-q', '-n', '-c', String(count), '-i', '0.002', '-W', '1', ip], { netns: src.ns, allowFailure: true });
  /** Packets the receiver's eth0 got so far. */
  const readRx = async () => Number((await run('cat', ['/sys/class/net/eth0/statistics/rx_packets'], { netns: dst.ns })).stdout.trim());
  /** The datapath flows to the two addresses, as "address/mask actions". */
  const megaflows = async () =>
    (await appctl(['dpctl/dump-flows']))
      .split('\n')
      .filter((l) => l.includes('ipv4(') && l.includes('dst=10.1.'))
      .map((l) => `${/dst=(10\.1\.[0-9.]+(?:\/[0-9.]+)?)/.exec(l)?.[1] ?? '?'} ${l.split('actions:')[1] ?? '?'}`)
      .sort();

  /** Upstream's sequence up to the last rule change; returns once that change was revalidated. */
  async function overlapThenChange(): Promise<void> {
    await replaceFlows(['table=0,priority=0,actions=drop', 'table=0,priority=10,in_port=1,ip,nw_dst=10.1.2.0/24,actions=output:2']);
    await appctl(['revalidator/purge']);
    await send(NEAR, 3);
    await waitFor('a /24 megaflow', async () => (await megaflows()).some((f) => f.startsWith(`${NEAR}/255.255.255.0`)), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    await replaceFlows(['table=0,priority=0,actions=drop', 'table=0,priority=10,in_port=1,ip,nw_dst=10.1.0.0/16,actions=drop']);
    await appctl(['revalidator/wait']);
    await send(FAR, 3);
    await send(NEAR, 3);
    // the /16 subtable the busier one while the rules change (lookups try it first: dpcls ranks its
    // subtables by hits, about every second), the /24 megaflow kept alive
    const flood = send(FAR, 1500);
    await new Promise((r) => setTimeout(r, 1300));
    await send(NEAR, 2);
    await replaceFlows(['table=0,priority=0,actions=drop', 'table=0,priority=10,in_port=1,ip,nw_dst=10.1.0.0/16,actions=output:2']);
    await appctl(['revalidator/wait']);
    await appctl(['revalidator/wait']);
    await flood;
  }

  it('with netplugin purge after the change, no megaflow keeps a replaced action and the packets pass', async () => {
    const version = /\(Open vSwitch\)\s+(\S+)/.exec(await ctl!.call('version'))?.[1];
    console.log(
      `      [megaflow-overlap] Open vSwitch ${version}: ${hasOverlappingMegaflowBug(version, 'netdev') ? 'has' : 'does not have'} the bug`,
    );
    const purge = new PurgeAfterChange({ purge: async () => void (await ctl!.call('revalidator/purge')) });
    await overlapThenChange();
    assert.equal(await purge.settle(true), true);
    await send(NEAR, 5);
    await send(FAR, 5);
    const flows = await megaflows();
    assert.deepEqual(
      flows.filter((f) => f.endsWith(' drop')),
      [],
      `no megaflow to 10.1.0.0/16 drops after the change to output: ${flows.join('; ')}`,
    );
    const before = await readRx();
    await send(NEAR, 20);
    await send(FAR, 20);
    await waitFor('the 40 packets at the receiver', async () => (await readRx()) - before >= 40, { timeoutMs: 5000, intervalMs: 50 });
  });
});
