import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { cpuPerPacketUs, parseLinkPackets, parseRouteDev, pinToCpu, withSwitchCpu } from '../../../bench/support/switch-cpu';
import { isNetloomError } from '../../../lib/errors';

const allowedCpus = (): string | undefined => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];

describe("dataplane benchmark: the switches' CPU per packet", () => {
  it('finds the interface a route leaves by', () => {
    assert.equal(parseRouteDev('10.60.1.2 dev eth0 src 10.60.1.1 uid 0 \\    cache \n'), 'eth0');
    assert.equal(parseRouteDev('local 127.0.0.1 dev lo src 127.0.0.1 uid 0'), 'lo');
    assert.throws(
      () => parseRouteDev('RTNETLINK answers: Network is unreachable'),
      (e: unknown) => isNetloomError(e) && e.field === 'route',
    );
  });

  it('adds the packets an interface received and sent, and names what is missing', () => {
    const link = (rx: unknown, tx: unknown) => JSON.stringify([{ ifname: 'eth0', stats64: { rx: { packets: rx }, tx: { packets: tx } } }]);
    assert.equal(parseLinkPackets(link(120, 80)), 200);
    assert.throws(() => parseLinkPackets(link('120', 80)), /stats64\.rx\.packets/);
    assert.throws(() => parseLinkPackets('[]'), /stats64/);
    assert.throws(() => parseLinkPackets('Device "eth9" does not exist.'), /no JSON/);
  });

  it('divides the CPU by packets and switches, and gives null when nothing was forwarded', () => {
    // 2 switches, 300 ms together, 3000 packets: 50 µs per packet and switch
    assert.equal(cpuPerPacketUs(300, 3000, 2), 50);
    assert.equal(cpuPerPacketUs(10, 3, 1), 3333.3);
    assert.equal(cpuPerPacketUs(300, 0, 2), null);
    assert.equal(cpuPerPacketUs(300, 10, 0), null);
  });

  it('runs the test alone, measuring nothing, for a path without switches', async () => {
    let ran = 0;
    const m = await withSwitchCpu({ clientNs: 'no-such-ns', serverIp: '10.0.0.1' }, () => Promise.resolve(++ran));
    assert.deepEqual(m, { result: 1, cpuUsPerPacket: null });
  });

  it('names the OVS directory that has no ovs-vswitchd pid file, before running the test', async () => {
    let ran = false;
    await assert.rejects(
      withSwitchCpu({ clientNs: 'no-such-ns', serverIp: '10.0.0.1', switchDirs: ['/nonexistent/ovs-x'] }, () =>
        Promise.resolve((ran = true)),
      ),
      /no ovs-vswitchd pid file in \/nonexistent\/ovs-x\/run/,
    );
    assert.equal(ran, false);
  });

  it('refuses to pin to a CPU this machine does not have, naming the option (nothing pinned)', async () => {
    const before = allowedCpus();
    await assert.rejects(
      pinToCpu(1023, []),
      (e: unknown) => isNetloomError(e) && e.field === 'pin-cpu' && /--pin-cpu 1023/.test(e.message),
    );
    const after = allowedCpus();
    assert.equal(after, before);
  });
});
