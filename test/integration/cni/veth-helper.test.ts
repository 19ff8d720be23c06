/**
 * The compiled stage 1 of a CNI ADD (dist/bin/netloom-veth, from netplugin/plumbing/netloom-veth.c)
 * on a real kernel (root): it leaves a container exactly as `ip -b` plus `ethtool -K IF tx off`
 * do (link up with its MAC and MTU, lo up, the address, the default route, the same offload
 * features; the host end up in the host's namespace), and its failures say what exists: a name
 * that is taken keeps the other interface, a default route the container has already removes the
 * new pair again.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { isNetloomError } from '../../../lib/errors';
import { run, type CommandRunner } from '../../../lib/exec';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { createVeth, disableTxChecksum, VETH_HELPER } from '../../../netplugin/plumbing/veth';

const HOST = 'asvh-host';
const CTR = { helper: 'asvh-c1', ip: 'asvh-c2' };
const hostNs = `/run/netns/${HOST}`;
/** the agent's runner: commands in the host's namespace */
const hostRun: CommandRunner = (cmd, args, opts) => run(cmd, args, { ...opts, netns: HOST });
const ip = async (ns: string, args: string[]): Promise<unknown> => JSON.parse((await run('ip', ['-n', ns, '-j', ...args])).stdout);
const features = async (ns: string, ifName: string): Promise<string> =>
  (await run('ip', ['netns', 'exec', ns, 'ethtool', '-k', ifName])).stdout.replace(/^Features for .*\n/, '');

interface Link {
  ifname: string;
  flags: string[];
  mtu: number;
  address: string;
  operstate: string;
}
interface Addr {
  ifname: string;
  addr_info: Array<{ family: string; local: string; prefixlen: number }>;
}

describe('the compiled veth helper (netloom-veth) against ip + ethtool', function () {
  this.timeout(60_000);
  before(async () => {
    assert.ok(existsSync(VETH_HELPER), `${VETH_HELPER} is built by deploy/install.sh`);
    for (const ns of [HOST, CTR.helper, CTR.ip]) await addNetns(ns);
  });
  after(async () => {
    for (const ns of [HOST, CTR.helper, CTR.ip]) await delNetns(ns);
  });

  const plumbing = (ctr: string, hostIf: string, ifName = 'eth0', gateway = '10.61.0.1') => ({
    hostIf,
    ifName,
    netnsPath: `/run/netns/${ctr}`,
    mac: '02:61:00:00:00:05',
    mtu: 1450,
    address: { ip: '10.61.0.5', prefixLength: 24, gateway },
  });

  it('makes the same container and host end as ip -b and ethtool', async () => {
    await createVeth(plumbing(CTR.helper, 'asvh0'), hostRun, hostNs, { helper: VETH_HELPER, txOff: true });
    await createVeth(plumbing(CTR.ip, 'asvh1'), hostRun, hostNs);
    await disableTxChecksum(`/run/netns/${CTR.ip}`, 'eth0', hostRun);
    const view = async (ns: string) => {
      const links = (await ip(ns, ['link', 'show'])) as Link[];
      const addrs = (await ip(ns, ['-4', 'addr', 'show'])) as Addr[];
      return {
        links: links.map((l) => ({ name: l.ifname, up: l.flags.includes('UP'), mtu: l.mtu, mac: l.ifname === 'lo' ? '' : l.address })),
        addrs: addrs.map((a) => ({ name: a.ifname, v4: a.addr_info.map((i) => `${i.local}/${i.prefixlen}`) })),
        routes: await ip(ns, ['route', 'show']),
        features: await features(ns, 'eth0'),
      };
    };
    const [byHelper, byIp] = [await view(CTR.helper), await view(CTR.ip)];
    assert.deepEqual(byHelper, byIp);
    assert.match(byHelper.features, /^tx-checksumming: off$/m);
    assert.deepEqual(
      byHelper.links.find((l) => l.name === 'eth0'),
      { name: 'eth0', up: true, mtu: 1450, mac: '02:61:00:00:00:05' },
    );
    const hostEnds = ((await ip(HOST, ['link', 'show'])) as Link[]).filter((l) => l.ifname.startsWith('asvh'));
    assert.deepEqual(
      hostEnds.map((l) => [l.ifname, l.flags.includes('UP'), l.mtu]),
      [
        ['asvh0', true, 1450],
        ['asvh1', true, 1450],
      ],
    );
  });

  it('a name that is taken: ALREADY_EXISTS, the other interface kept', async () => {
    await assert.rejects(createVeth(plumbing(CTR.helper, 'asvh2'), hostRun, hostNs, { helper: VETH_HELPER, txOff: true }), (e: unknown) =>
      isNetloomError(e, 'ALREADY_EXISTS'),
    );
    const names = ((await ip(CTR.helper, ['link', 'show'])) as Link[]).map((l) => l.ifname);
    assert.deepEqual(names.sort(), ['eth0', 'lo']);
  });

  it('a default route the container has already: ALREADY_EXISTS, the new pair removed again', async () => {
    await assert.rejects(
      createVeth(plumbing(CTR.helper, 'asvh3', 'eth1', '10.61.0.1'), hostRun, hostNs, { helper: VETH_HELPER, txOff: true }),
      (e: unknown) => isNetloomError(e, 'ALREADY_EXISTS') && /default route exists already/.test((e as Error).message),
    );
    const names = ((await ip(CTR.helper, ['link', 'show'])) as Link[]).map((l) => l.ifname);
    assert.deepEqual(names.sort(), ['eth0', 'lo']);
    const hostEnds = ((await ip(HOST, ['link', 'show'])) as Link[]).map((l) => l.ifname);
    assert.ok(!hostEnds.includes('asvh3'), hostEnds.join(' '));
  });
});
