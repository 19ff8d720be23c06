/**
 * PACKET_IN and PACKET_OUT with real packets: a container namespace pings through br0 whose only
 * flow sends everything to the controller; we receive its ARP request as a packet_in with the right
 * in_port and bytes. Then we packet_out an ICMP echo request from an address nobody has to a second
 * container; its kernel answers by asking (ARP) for that address, which comes back to us as a
 * packet_in from the second container's port: proof that the frame we sent arrived there. The
 * other asynchronous messages come through as typed events too: port_status when a port is added,
 * flow_removed when a flow that asked for it is deleted.
 */
import assert from 'node:assert/strict';
import { OfConnection, connectSwitch } from '../../../ovs/openflow';
import { flowMod, FlowRemoved, OFPFF, OFPP, OFP_NO_BUFFER, OFPCML_NO_BUFFER, PacketIn, PortStatus } from '../../../ovs/openflow/messages';
import { run } from '../../../lib/exec';
import { waitFor } from '../../../lib/clock';
import { Container, OfxBridge, addContainer, startBridge, stopBridge, vsctl } from './openflow-lab';

function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

function ipBytes(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] as number) * 256 + (i + 1 < b.length ? (b[i + 1] as number) : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An Ethernet + IPv4 + ICMP echo request frame. */
function icmpEcho(srcMac: string, dstMac: string, srcIp: string, dstIp: string, id: number): Buffer {
  const icmp = Buffer.alloc(8 + 16, 0x61);
  icmp[0] = 8;
  icmp[1] = 0;
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(id, 4);
  icmp.writeUInt16BE(1, 6);
  icmp.writeUInt16BE(checksum(icmp), 2);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + icmp.length, 2);
  ip.writeUInt16BE(id, 4);
  ip[8] = 64;
  ip[9] = 1;
  ipBytes(srcIp).copy(ip, 12);
  ipBytes(dstIp).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.concat([mac(dstMac), mac(srcMac), Buffer.from([0x08, 0x00])]);
  return Buffer.concat([eth, ip, icmp]);
}

function inPort(p: PacketIn): number | undefined {
  const f = p.match.find((m) => m.field === 'in_port');
  return f && f.field !== 'raw' ? Number(f.value) : undefined;
}

/** For an ARP request frame: [sender MAC, target IP]. */
function arpRequest(frame: Buffer): { senderMac: string; targetIp: string } | undefined {
  if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0806 || frame.readUInt16BE(20) !== 1) return undefined;
  const senderMac = [...frame.subarray(22, 28)].map((x) => x.toString(16).padStart(2, '0')).join(':');
  return { senderMac, targetIp: [...frame.subarray(38, 42)].join('.') };
}

describe('OpenFlow PACKET_IN / PACKET_OUT with real packets', function () {
  this.timeout(60_000);
  let b: OfxBridge | undefined;
  let conn: OfConnection | undefined;
  let c1: Container;
  let c2: Container;

  before(async () => {
    b = await startBridge('pkt');
    c1 = await addContainer(b, 'c1', 1, '10.50.0.1', '02:00:0a:32:00:01');
    c2 = await addContainer(b, 'c2', 2, '10.50.0.2', '02:00:0a:32:00:02');
    conn = await connectSwitch(b.mgmt, { timeoutMs: 10_000 });
    // a management-socket connection gets no packet-ins until it asks for them
    await conn.send({ type: 'set_config', xid: 0, flags: 0, missSendLen: OFPCML_NO_BUFFER });
    await conn.send(
      flowMod({
        priority: 0,
        instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: OFPP.CONTROLLER, maxLen: OFPCML_NO_BUFFER }] }],
      }),
    );
    assert.deepEqual((await conn.barrier()).errors, []);
  });
  after(async () => {
    conn?.close();
    await stopBridge(b);
  });

  it('receives the packet a container sends as a packet_in with its in_port and bytes', async () => {
    const c = conn as OfConnection;
    const q = c.events('packet_in', 256);
    // ping cannot succeed (nothing forwards), but it makes c1 send an ARP request for c2
    await run('ping', ['-c', '2', '-W', '1', '-i', '0.3', c2.ip], { netns: c1.ns, allowFailure: true });
    let found: PacketIn | undefined;
    await waitFor(
      'the ARP request of c1 as a packet_in',
      async () => {
        while (!found && q.length > 0) {
          const p = (await q.next()).value as PacketIn;
          const arp = arpRequest(p.data);
          if (arp && arp.targetIp === c2.ip) found = p;
        }
        return found;
      },
      { timeoutMs: 5000, intervalMs: 50 },
    );
    q.close();
    assert.ok(found, 'an ARP request from c1 for c2 arrived as a packet_in');
    assert.equal(inPort(found), c1.ofport);
    assert.equal(found.bufferId, OFP_NO_BUFFER);
    assert.equal(found.data.length, found.totalLen);
    assert.ok(found.data.subarray(6, 12).equals(mac(c1.mac)), 'Ethernet source is c1');
    assert.equal(arpRequest(found.data)?.senderMac, c1.mac);
  });

  it('sends a packet_out that a second container receives (it asks who has the source address)', async () => {
    const c = conn as OfConnection;
    const ghost = '10.50.0.99';
    const arps: PacketIn[] = [];
    c.on('packet_in', (p) => {
      const arp = arpRequest(p.data);
      if (arp && arp.targetIp === ghost) arps.push(p);
    });
    const frame = icmpEcho('02:00:0a:32:00:99', c2.mac, ghost, c2.ip, 0x4242);
    await waitFor(
      'c2 to ask for the ghost address',
      async () => {
        await c.send({
          type: 'packet_out',
          xid: 0,
          bufferId: OFP_NO_BUFFER,
          inPort: OFPP.CONTROLLER,
          actions: [{ type: 'output', port: c2.ofport, maxLen: 0 }],
          data: frame,
        });
        await c.barrier();
        return arps.length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 300 },
    );
    const p = arps[0] as PacketIn;
    assert.equal(inPort(p), c2.ofport);
    assert.equal(arpRequest(p.data)?.senderMac, c2.mac);
    const neigh = await run('ip', ['neigh', 'show', ghost], { netns: c2.ns });
    assert.match(neigh.stdout, new RegExp(ghost.replace(/\./g, '\\.')));
  });

  it('emits port_status when a port is added and flow_removed when a flow asking for it is deleted', async () => {
    const c = conn as OfConnection;
    const br = b as OfxBridge;
    const ports: PortStatus[] = [];
    const removed: FlowRemoved[] = [];
    c.on('port_status', (p) => ports.push(p));
    c.on('flow_removed', (f) => removed.push(f));
    await vsctl(br, ['add-port', 'br0', 'extra0', '--', 'set', 'Interface', 'extra0', 'type=internal', 'ofport_request=7']);
    await waitFor('port_status for extra0', () => ports.some((p) => p.port.name === 'extra0'), { timeoutMs: 10_000 });
    const added = ports.find((p) => p.port.name === 'extra0') as PortStatus;
    assert.equal(added.reason, 0); // OFPPR_ADD
    assert.equal(added.port.portNo, 7);

    await c.send(
      flowMod({ tableId: 3, priority: 9, cookie: 0xfeedn, flags: OFPFF.SEND_FLOW_REM, match: [{ field: 'in_port', value: 7 }] }),
    );
    await c.send(flowMod({ command: 'delete', tableId: 3, cookie: 0xfeedn, cookieMask: 0xffffffffffffffffn }));
    assert.deepEqual((await c.barrier()).errors, []);
    await waitFor('flow_removed', () => removed.length > 0, { timeoutMs: 10_000 });
    const r = removed[0] as FlowRemoved;
    assert.equal(r.cookie, 0xfeedn);
    assert.equal(r.tableId, 3);
    assert.equal(r.priority, 9);
    assert.equal(r.reason, 2); // OFPRR_DELETE
  });
});
