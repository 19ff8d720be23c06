/** Pure pieces of the agent: fabric-file endpoint lookup, bridge column fixes, VTEP and veth checks. */
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { bridgeColumnsToFix, optionsToFix, VXLAN_OPTIONS, vtepAddress } from '../../../netplugin/agent/bridge-setup';
import { findListedEndpoint } from '../../../netplugin/agent/file-fabric';
import { containerIfName } from '../../../netplugin/backends/cnm-backend';
import { randomMac } from '../../../lib/mac';
import { addressScript, createVeth, hostIfName, ipBatchIn, vethHelperArgs, vethScript } from '../../../netplugin/plumbing/veth';
import type { CommandRunner } from '../../../lib/exec';
import { parseHostState } from '../../../netplugin/state/host-state';
import type { BridgeState } from '../../../ovs/ovsdb/vswitch';

const state = parseHostState({
  tenants: [{ name: 't1', vrfId: 1, ctZone: 1 }],
  networks: [
    { key: 't1:n', tenant: 't1', name: 'n', encap: 'vxlan', pktTag: 5001, subnet: '10.1.0.0/24', gateway: '10.1.0.254', networkId: 1 },
  ],
  endpoints: [
    { id: 'e1', network: 't1:n', host: 'h1', ip: '10.1.0.5', mac: '02:00:00:00:00:AA', containerId: 'c1' },
    { id: 'e2', network: 't1:n', host: 'h2', ip: '10.1.0.6', mac: '02:00:00:00:00:bb', containerId: 'c1' },
  ],
});
const req = { idempotencyKey: 'k', host: 'h1', tenant: 't1', network: 'n', containerId: 'c1', ifName: 'eth0', labels: {} };

describe('agent pure helpers', () => {
  it("findListedEndpoint returns the host's endpoint for the container with prefix and gateway", () => {
    assert.deepEqual(findListedEndpoint(state, req), {
      id: 'e1',
      networkKey: 't1:n',
      tenant: 't1',
      network: 'n',
      ip: '10.1.0.5',
      prefixLength: 24,
      mac: '02:00:00:00:00:aa',
      gateway: '10.1.0.254',
    });
    assert.equal(findListedEndpoint(state, { ...req, host: 'h2' }).id, 'e2');
  });

  it('findListedEndpoint names what is missing', () => {
    assert.throws(
      () => findListedEndpoint(state, { ...req, network: 'other' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'network',
    );
    assert.throws(
      () => findListedEndpoint(state, { ...req, containerId: 'c9' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'containerId',
    );
  });

  it('bridgeColumnsToFix changes only what differs', () => {
    const b = { datapathType: 'netdev', failMode: 'secure', protocols: ['OpenFlow13'] } as BridgeState;
    assert.deepEqual(bridgeColumnsToFix(b, { datapathType: 'netdev', failMode: 'secure', protocols: ['OpenFlow13'] }), {});
    assert.deepEqual(
      bridgeColumnsToFix(
        { ...b, failMode: undefined, protocols: ['OpenFlow10'] },
        { datapathType: 'netdev', failMode: 'secure', protocols: ['OpenFlow13'] },
      ),
      {
        fail_mode: 'secure',
        protocols: ['OpenFlow10', 'OpenFlow13'],
      },
    );
    assert.deepEqual(bridgeColumnsToFix(b, { datapathType: 'system', failMode: 'standalone' }), {
      datapath_type: 'system',
      fail_mode: 'standalone',
    });
  });

  it('optionsToFix gives the options a port made by an older agent lacks (tos=inherit on the VXLAN port), keeping others', () => {
    assert.deepEqual(optionsToFix({ key: 'flow', remote_ip: 'flow' }, VXLAN_OPTIONS), { tos: 'inherit' });
    assert.deepEqual(optionsToFix({ ...VXLAN_OPTIONS, dst_port: '4789' }, VXLAN_OPTIONS), {});
    assert.deepEqual(optionsToFix({ key: '5', remote_ip: 'flow', tos: '0' }, VXLAN_OPTIONS), { key: 'flow', tos: 'inherit' });
  });

  it('vtepAddress accepts a CIDR and refuses anything else naming --vtep-ip', () => {
    assert.equal(vtepAddress('10.213.3.1/24'), '10.213.3.1');
    for (const bad of ['10.213.3.1', '10.0.0.300/24', '10.0.0.1/33', 'x/24']) {
      assert.throws(
        () => vtepAddress(bad),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'vtep-ip',
        bad,
      );
    }
  });

  it('host interface names are stable, distinct and fit 15 characters', () => {
    assert.equal(hostIfName('e1'), hostIfName('e1'));
    assert.notEqual(hostIfName('e1'), hostIfName('e2'));
    assert.ok(hostIfName('a-very-long-endpoint-id-0123456789').length <= 15);
    assert.equal(containerIfName(hostIfName('e1')).length, hostIfName('e1').length);
    assert.match(containerIfName('nl0123456789a'), /^nc0123456789a$/);
  });

  it('vethScript (stage 1): the pair, host end in the agent namespace and up, container end with its MAC and up, lo up', () => {
    const base = { hostIf: 'nl1', ifName: 'eth0', mac: '02:00:00:00:00:01', mtu: 1450 };
    assert.equal(
      vethScript(base, '/proc/1/ns/net'),
      'link add nl1 up netns /proc/1/ns/net mtu 1450 type veth peer name eth0 address 02:00:00:00:00:01 mtu 1450\nlink set eth0 up\nlink set lo up\n',
    );
    assert.throws(
      () => vethScript({ ...base, ifName: 'eth0; reboot' }, '/p'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'ifName',
    );
    assert.throws(
      () => vethScript({ ...base, hostIf: 'x'.repeat(16) }, '/p'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'hostIf',
    );
    assert.throws(
      () => vethScript({ ...base, mtu: 10 }, '/p'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'mtu',
    );
    assert.throws(
      () => vethScript({ ...base, mac: '02:00:00:00:00:01\nlink del eth1' }, '/p'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'mac',
    );
    assert.match(randomMac(), /^02(:[0-9a-f]{2}){5}$/);
    assert.notEqual(randomMac(), randomMac());
  });

  it('ipBatchIn: ip -n for a named namespace (one program started), nsenter for any other path', () => {
    assert.deepEqual(ipBatchIn('/run/netns/cni-1234'), ['ip', ['-n', 'cni-1234', '-b', '-']]);
    assert.deepEqual(ipBatchIn('/var/run/netns/ctr_a.b'), ['ip', ['-n', 'ctr_a.b', '-b', '-']]);
    assert.deepEqual(ipBatchIn('/proc/42/ns/net'), ['nsenter', ['--net=/proc/42/ns/net', 'ip', '-b', '-']]);
    assert.deepEqual(ipBatchIn('/run/netns/..'), ['nsenter', ['--net=/run/netns/..', 'ip', '-b', '-']]);
    assert.deepEqual(ipBatchIn('/run/netns/a/b'), ['nsenter', ['--net=/run/netns/a/b', 'ip', '-b', '-']]);
  });

  it('vethScript with the address known (address blocks): stage 2 in the same run', () => {
    const base = { hostIf: 'nl1', ifName: 'eth0', mac: '02:00:00:00:00:01', mtu: 1450 };
    const withAddress = vethScript({ ...base, address: { ip: '10.1.0.5', prefixLength: 24, gateway: '10.1.0.1' } }, '/p');
    assert.equal(withAddress.split('\n').slice(3).join('\n'), 'addr add 10.1.0.5/24 dev eth0\nroute add default via 10.1.0.1 dev eth0\n');
    assert.throws(
      () => vethScript({ ...base, address: { ip: '10.1.0.5; reboot', prefixLength: 24, gateway: '' } }, '/p'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'ip',
    );
  });

  it('createVeth: a failed addressing in the same run removes the pair and says so; a clash of names keeps it', async () => {
    const calls: string[] = [];
    const failing =
      (stderr: string): CommandRunner =>
      async (cmd, args) => {
        calls.push([cmd, ...args].join(' '));
        return cmd === 'nsenter' ? { code: 1, stdout: '', stderr } : { code: 0, stdout: '', stderr: '' };
      };
    const p = { hostIf: 'nl1', ifName: 'eth0', netnsPath: '/proc/self/ns/net', mac: '02:00:00:00:00:01', mtu: 1450 };
    const address = { ip: '10.1.0.5', prefixLength: 24, gateway: '10.1.0.1' };
    await assert.rejects(
      createVeth({ ...p, address }, failing('RTNETLINK answers: File exists\nCommand failed -:5\n')),
      (e: unknown) => isNetloomError(e, 'ALREADY_EXISTS') && /configuring eth0.*default route exists already/.test((e as Error).message),
    );
    assert.ok(calls.includes('ip link del nl1'), calls.join('\n'));
    calls.length = 0;
    await assert.rejects(
      createVeth({ ...p, address }, failing('Error: Nexthop has invalid gateway.\nCommand failed -:5\n')),
      (e: unknown) => isNetloomError(e, 'COMMAND_FAILED') && /configuring eth0/.test((e as Error).message),
    );
    assert.ok(calls.includes('ip link del nl1'), calls.join('\n'));
    calls.length = 0;
    await assert.rejects(createVeth({ ...p, address }, failing('RTNETLINK answers: File exists\nCommand failed -:1\n')), (e: unknown) =>
      isNetloomError(e, 'ALREADY_EXISTS'),
    );
    assert.ok(!calls.includes('ip link del nl1'), 'an interface of that name is not ours to remove');
  });

  it('vethHelperArgs (the compiled stage 1): the same pair, addressing and tx-off as arguments, checked first', () => {
    const base = { hostIf: 'nl1', ifName: 'eth0', netnsPath: '/run/netns/c1', mac: '02:00:00:00:00:01', mtu: 1450 };
    const common = ['--netns', '/run/netns/c1', '--host-netns', '/proc/1/ns/net', '--host-if', 'nl1', '--if', 'eth0'];
    assert.deepEqual(vethHelperArgs(base, '/proc/1/ns/net', false), [...common, '--mac', '02:00:00:00:00:01', '--mtu', '1450']);
    assert.deepEqual(
      vethHelperArgs({ ...base, address: { ip: '10.1.0.5', prefixLength: 24, gateway: '10.1.0.1' } }, '/proc/1/ns/net', true).slice(12),
      ['--address', '10.1.0.5/24', '--gateway', '10.1.0.1', '--tx-off'],
    );
    assert.deepEqual(vethHelperArgs({ ...base, address: { ip: '10.1.0.5', prefixLength: 24, gateway: '' } }, '/p', false).slice(12), [
      '--address',
      '10.1.0.5/24',
    ]);
    assert.throws(
      () => vethHelperArgs({ ...base, address: { ip: '10.1.0.5 --tx-off', prefixLength: 24, gateway: '' } }, '/p', false),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'ip',
    );
    assert.throws(
      () => vethHelperArgs({ ...base, ifName: 'eth0 --tx-off' }, '/p', false),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('createVeth with the helper: its exit status says what exists; a clash of names keeps it, a later failure removes the pair', async () => {
    const calls: string[] = [];
    const exiting =
      (code: number, stderr: string): CommandRunner =>
      async (cmd, args) => {
        calls.push([cmd, ...args].join(' '));
        return cmd === '/x/netloom-veth' ? { code, stdout: '', stderr } : { code: 0, stdout: '', stderr: '' };
      };
    const p = { hostIf: 'nl1', ifName: 'eth0', netnsPath: '/proc/self/ns/net', mac: '02:00:00:00:00:01', mtu: 1450 };
    const address = { ip: '10.1.0.5', prefixLength: 24, gateway: '10.1.0.1' };
    const helper = { helper: '/x/netloom-veth', txOff: true };
    await createVeth({ ...p, address }, exiting(0, ''), '/h', helper);
    assert.equal(calls.length, 1, 'one program: the pair, its addressing and the checksum fix');
    assert.match(calls[0] ?? '', /^\/x\/netloom-veth --netns \/proc\/self\/ns\/net --host-netns \/h .* --tx-off$/);
    calls.length = 0;
    await assert.rejects(
      createVeth({ ...p, address }, exiting(1, 'netloom-veth: link add nl1 / eth0: RTNETLINK answers: File exists\n'), '/h', helper),
      (e: unknown) => isNetloomError(e, 'ALREADY_EXISTS') && /exists already/.test((e as Error).message),
    );
    assert.ok(!calls.includes('ip link del nl1'), 'an interface of that name is not ours to remove');
    calls.length = 0;
    await assert.rejects(
      createVeth(
        { ...p, address },
        exiting(2, 'netloom-veth: route add default via 10.1.0.1 dev eth0: RTNETLINK answers: File exists\n'),
        '/h',
        helper,
      ),
      (e: unknown) =>
        isNetloomError(e, 'ALREADY_EXISTS') && /configuring eth0.*default route exists already.*route add/.test((e as Error).message),
    );
    assert.ok(calls.includes('ip link del nl1'), calls.join('\n'));
    calls.length = 0;
    await assert.rejects(
      createVeth(p, exiting(3, 'netloom-veth: turning tx checksum offload off on eth0: Operation not supported\n'), '/h', helper),
      (e: unknown) => isNetloomError(e, 'COMMAND_FAILED') && /tx checksum/.test((e as Error).message),
    );
    assert.ok(calls.includes('ip link del nl1'), calls.join('\n'));
  });

  it('addressScript (stage 2): address and route; MAC and MTU only when they change', () => {
    const base = { ifName: 'eth0', ip: '10.1.0.5', prefixLength: 24, gateway: '10.1.0.254' };
    assert.equal(addressScript(base), 'addr add 10.1.0.5/24 dev eth0\nroute add default via 10.1.0.254 dev eth0\n');
    assert.equal(addressScript({ ...base, gateway: '' }), 'addr add 10.1.0.5/24 dev eth0\n', 'no gateway: no default route');
    assert.equal(
      addressScript({ ...base, mac: '02:00:00:00:00:09', mtu: 1500 }).split('\n')[0],
      'link set eth0 address 02:00:00:00:00:09 mtu 1500',
    );
    assert.equal(addressScript({ ...base, mtu: 1500 }).split('\n')[0], 'link set eth0 mtu 1500');
    assert.throws(
      () => addressScript({ ...base, mac: '02:00:00:00:00:01\nlink del eth1' }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'mac',
    );
    assert.throws(
      () => addressScript({ ...base, ip: '10.1.0.5\nlink del eth1' }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'ip',
    );
    assert.throws(
      () => addressScript({ ...base, gateway: 'x' }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'gateway',
    );
  });
});
