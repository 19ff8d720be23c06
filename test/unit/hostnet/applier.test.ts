import { strict as assert } from 'node:assert';
import { NetloomError } from '../../../lib/errors';
import type { CommandRunner, RunResult } from '../../../lib/exec';
import { HostNetApplier } from '../../../netplugin/hostnet/applier';
import { desiredHostNet } from '../../../netplugin/hostnet/desired-state';
import { parseHostAddresses } from '../../../netplugin/hostnet/host-addresses';
import { input } from './fixture';

/** A fake kernel: records commands, answers the listings from what earlier commands did. */
class FakeKernel {
  readonly calls: string[] = [];
  readonly inputs: string[] = [];
  rules: object[] = [];
  routes: object[] = [];
  readonly runner: CommandRunner = async (cmd, args, opts) => {
    const line = `${cmd} ${args.join(' ')}`;
    this.calls.push(line);
    if (opts?.input !== undefined) this.inputs.push(opts.input);
    const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '' });
    if (line === 'ip -j rule show') return ok(JSON.stringify(this.rules));
    if (line.startsWith('ip -j route show')) return ok(JSON.stringify(this.routes));
    if (args[0] === 'rule' && args[1] === 'add')
      this.rules.push({ priority: Number(args[3]), fwmark: args[5]!.split('/')[0], fwmask: args[5]!.split('/')[1], table: args[7] });
    if (args[0] === 'route' && args[1] === 'replace')
      this.routes.push({ dst: args[2], dev: args[4], ...(args[6] === 'main' ? {} : { table: args[6] }) });
    return ok();
  };
}

describe('hostnet: the applier (fake runner)', () => {
  const state = desiredHostNet(input(), { addresses: [] });

  it('prepares the ports, turns forwarding on, loads the table atomically, adds rules and routes', async () => {
    const k = new FakeKernel();
    const a = new HostNetApplier({ runner: k.runner, txChecksumOff: true });
    const r = await a.apply(state);
    assert.deepEqual(r, { nft: true, commands: 5 }, 'two rules, two tables, the blue:db host route');
    assert.deepEqual(k.calls.slice(0, 7), [
      'ip link set dev nlgw1 up',
      'sysctl -q -w net.ipv4.conf.nlgw1.rp_filter=0 net.ipv6.conf.nlgw1.disable_ipv6=1',
      'ethtool -K nlgw1 tx off',
      'ip link set dev nlgw2 up',
      'sysctl -q -w net.ipv4.conf.nlgw2.rp_filter=0 net.ipv6.conf.nlgw2.disable_ipv6=1',
      'ethtool -K nlgw2 tx off',
      'sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.tcp_fwmark_accept=1 net.ipv4.fwmark_reflect=1',
    ]);
    assert.equal(k.calls[7], 'nft -f -');
    assert.ok(k.inputs[0]!.startsWith('table inet netloom\ndelete table inet netloom\ntable inet netloom {'));
    assert.ok(k.calls.includes('ip rule add priority 9100 fwmark 0x00010001/0x0001ffff lookup 10001'));
    assert.ok(k.calls.includes('ip route replace default dev nlgw2 table 10002 proto 77 scope link'));
    assert.ok(
      k.calls.includes('ip route replace 10.1.2.0/24 dev nlgw1 table main proto 77 scope link'),
      'blue:db does not clash: host route',
    );
  });

  it('the same state again runs nothing until invalidated; then the kernel is listed and what is missing done; a new applier (restarted agent) loads the table again', async () => {
    const k = new FakeKernel();
    const a = new HostNetApplier({ runner: k.runner, txChecksumOff: false });
    await a.apply(state);
    const n = k.calls.length;
    assert.deepEqual(await a.apply(state), { nft: false, commands: 0 });
    assert.equal(k.calls.length, n, 'no command');
    a.invalidate();
    k.routes = k.routes.filter((r) => !JSON.stringify(r).includes('"10001"'));
    assert.deepEqual(await a.apply(state), { nft: true, commands: 1 }, 'the route removed behind its back is back');
    assert.ok(k.calls.slice(n).includes('ip link set dev nlgw1 up'), 'ports prepared again (a restarted ovs-vswitchd made them anew)');
    const restarted = new HostNetApplier({ runner: k.runner, txChecksumOff: false });
    assert.deepEqual(await restarted.apply(state), { nft: true, commands: 0 });
    assert.ok(k.calls.at(-1)!.startsWith('ip -j route show'), 'and lists the kernel');
  });

  it('when the last gateway goes, the table is deleted and every rule and route removed', async () => {
    const k = new FakeKernel();
    const a = new HostNetApplier({ runner: k.runner, txChecksumOff: false });
    await a.apply(state);
    const r = await a.apply({ gateways: [], portMappings: [] });
    assert.equal(r.nft, true);
    assert.equal(k.inputs.at(-1), 'table inet netloom\ndelete table inet netloom\n');
    assert.equal(r.commands, 2 + 2 + 1, 'two rules, two tables, blue:db host route');
  });

  it('a host with node ports but no gateway turns forwarding on and loads the table (it forwards them to other hosts)', async () => {
    const k = new FakeKernel();
    const a = new HostNetApplier({ runner: k.runner, txChecksumOff: false });
    const rule = {
      tenantVrfId: 0,
      protocol: 'tcp' as const,
      nodePort: 30080,
      service: 'kube:far/web:tcp/80',
      backends: [],
      remote: ['192.168.0.2'],
    };
    const r = await a.apply({ gateways: [], portMappings: [], nodePorts: { rules: [rule], peers: [] } });
    assert.deepEqual(r, { nft: true, commands: 0 });
    assert.equal(k.calls[0], 'sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.tcp_fwmark_accept=1 net.ipv4.fwmark_reflect=1');
    assert.match(k.inputs[0]!, /tcp dport 30080 ct mark set 0x00040000 dnat ip to/);
  });
});

describe('hostnet: host addresses', () => {
  it('keeps IPv4 addresses with prefix, not loopback or gateway ports', () => {
    const text = JSON.stringify([
      { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      {
        ifname: 'eth0',
        addr_info: [
          { family: 'inet', local: '10.213.0.1', prefixlen: 24 },
          { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
        ],
      },
      { ifname: 'nlgw1', addr_info: [{ family: 'inet', local: '10.9.9.9', prefixlen: 32 }] },
      { ifname: 'br-phy', addr_info: [{ family: 'inet', local: '10.213.1.1', prefixlen: 24 }] },
    ]);
    assert.deepEqual(parseHostAddresses(text), ['10.213.0.1/24', '10.213.1.1/24']);
    assert.throws(
      () => parseHostAddresses('Error: nope'),
      (e: unknown) => e instanceof NetloomError && e.code === 'INTERNAL',
    );
  });
});
