import { strict as assert } from 'node:assert';
import type { CommandRunner } from '../../../lib/exec';
import { isNetloomError } from '../../../lib/errors';
import { parseUplinkAddress, prepareRoutedUplink, uplinkArpSettings } from '../../../netplugin/routed/routed-uplink';

const ADDR = JSON.stringify([{ ifname: 'eth2', addr_info: [{ family: 'inet', local: '10.213.1.101', prefixlen: 32 }] }]);

describe('routed uplink', () => {
  it("reads the interface's first IPv4 address", () => {
    assert.equal(parseUplinkAddress('eth2', ADDR), '10.213.1.101');
  });

  it('ARP apart on the uplink and the OVS bridge: answer and ask only with their own addresses (a dot in a name stays literal)', () => {
    assert.deepEqual(uplinkArpSettings('eth2', 'br-phy'), [
      'net/ipv4/conf/eth2/arp_ignore=1',
      'net/ipv4/conf/eth2/arp_announce=2',
      'net/ipv4/conf/br-phy/arp_ignore=1',
      'net/ipv4/conf/br-phy/arp_announce=2',
    ]);
    assert.deepEqual(uplinkArpSettings('eth2.5', undefined), ['net/ipv4/conf/eth2.5/arp_ignore=1', 'net/ipv4/conf/eth2.5/arp_announce=2']);
  });

  it('checks the interface, reads its address, sets the ARP settings; bad input names --routed-uplink', async () => {
    const calls: string[] = [];
    const runner = (out: { code: number; stdout: string; stderr?: string }): CommandRunner =>
      (async (cmd: string, args: readonly string[]) => {
        calls.push([cmd, ...args].join(' '));
        return { code: cmd === 'ip' ? out.code : 0, stdout: cmd === 'ip' ? out.stdout : '', stderr: out.stderr ?? '' };
      }) as CommandRunner;
    assert.deepEqual(await prepareRoutedUplink('eth2', 'br-phy', runner({ code: 0, stdout: ADDR })), { dev: 'eth2', ip: '10.213.1.101' });
    assert.deepEqual(calls, [
      'ip -j -4 addr show dev eth2',
      'sysctl -qw net/ipv4/conf/eth2/arp_ignore=1 net/ipv4/conf/eth2/arp_announce=2 net/ipv4/conf/br-phy/arp_ignore=1 net/ipv4/conf/br-phy/arp_announce=2',
    ]);
    const refused = (p: Promise<unknown>, re: RegExp) =>
      assert.rejects(p, (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'routed-uplink' && re.test(e.message));
    await refused(prepareRoutedUplink('eth 2', undefined, runner({ code: 0, stdout: ADDR })), /interface name/);
    await refused(
      prepareRoutedUplink('eth9', undefined, runner({ code: 1, stdout: '', stderr: 'Device "eth9" does not exist.' })),
      /no such interface/,
    );
    await refused(
      prepareRoutedUplink('eth2', undefined, runner({ code: 0, stdout: '[{"ifname":"eth2","addr_info":[]}]' })),
      /no IPv4 address/,
    );
  });
});
