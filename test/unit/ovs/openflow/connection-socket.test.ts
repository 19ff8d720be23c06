import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection, createServer, Server, Socket } from 'node:net';
import { OfListener } from '../../../../ovs/openflow/connection-listen';
import { ReconnectingSwitch } from '../../../../ovs/openflow/connection-dial';
import { parseOfAddress, formatOfAddress } from '../../../../ovs/openflow/transport-address';
import { OfFramer } from '../../../../ovs/openflow/framer';
import { OFPT, helloFrame, ofFrame, readOfHeader } from '../../../../ovs/openflow/connection-wire';
import { isNetloomError } from '../../../../lib/errors';
import { waitFor } from '../../../../lib/clock';
import { listenForSwitches } from '../../../../ovs/openflow';
import { featuresReply } from './connection-fakes';

/** Speak the switch side of the handshake (and barriers) on a real socket. */
function actAsSwitch(sock: Socket, dpid: bigint, versions = [4]): void {
  const framer = new OfFramer({ versions: [4] });
  sock.on('data', (chunk) => {
    let frames: Buffer[];
    try {
      frames = framer.push(chunk);
    } catch {
      sock.destroy();
      return;
    }
    for (const f of frames) {
      const h = readOfHeader(f);
      if (h.type === OFPT.HELLO) sock.write(helloFrame(h.xid, versions));
      else if (h.type === OFPT.FEATURES_REQUEST) sock.write(featuresReply(h.xid, dpid));
      else if (h.type === OFPT.BARRIER_REQUEST) sock.write(ofFrame(OFPT.BARRIER_REPLY, h.xid));
    }
  });
  sock.on('error', () => undefined);
}

describe('OpenFlow connection over real sockets', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(`${tmpdir()}/nl-ofconn-unit-`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses and prints OVS-style addresses, and names the bad part', () => {
    assert.deepEqual(parseOfAddress('tcp:127.0.0.1:6653'), { kind: 'tcp', host: '127.0.0.1', port: 6653 });
    assert.deepEqual(parseOfAddress('ptcp:6653'), { kind: 'tcp', host: '0.0.0.0', port: 6653 });
    assert.deepEqual(parseOfAddress('ptcp:6653:127.0.0.1'), { kind: 'tcp', host: '127.0.0.1', port: 6653 });
    assert.deepEqual(parseOfAddress('tcp:[::1]:6653'), { kind: 'tcp', host: '::1', port: 6653 });
    assert.deepEqual(parseOfAddress('punix:/run/x.mgmt'), { kind: 'unix', path: '/run/x.mgmt' });
    assert.equal(formatOfAddress(parseOfAddress('unix:/a/b')), 'unix:/a/b');
    for (const bad of ['6653', 'tcp:127.0.0.1', 'tcp:h:99999', 'ssl:1.2.3.4:6653', 'unix:']) {
      assert.throws(
        () => parseOfAddress(bad),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'address',
        bad,
      );
    }
  });

  it('a listener hands over a switch that connects and completes the handshake', async () => {
    const listener = await OfListener.listen(`unix:${dir}/ctl.sock`);
    try {
      const next = listener.nextSwitch(5000);
      const sock = createConnection({ path: `${dir}/ctl.sock` });
      actAsSwitch(sock, 0x1234n);
      const conn = await next;
      assert.equal(conn.features.datapathId, '0000000000001234');
      await conn.barrier();
      assert.equal(listener.connections.length, 1);
      sock.destroy();
    } finally {
      await listener.close();
    }
  });

  it('listenForSwitches hands over typed connections', async () => {
    const got: string[] = [];
    const listener = await listenForSwitches(`unix:${dir}/typed.sock`, (c) => got.push(c.datapathId));
    try {
      const sock = createConnection({ path: `${dir}/typed.sock` });
      actAsSwitch(sock, 0x99n);
      await waitFor('typed connection', () => got.length === 1, { timeoutMs: 5000, intervalMs: 10 });
      assert.deepEqual(got, ['0000000000000099']);
      sock.destroy();
    } finally {
      await listener.close();
    }
  });

  it('a TCP listener on an ephemeral port reports the port it got', async () => {
    const listener = await OfListener.listen('tcp:127.0.0.1:0');
    try {
      const a = listener.address;
      assert.ok(a.kind === 'tcp' && a.port > 0);
      const next = listener.nextSwitch(5000);
      const sock = createConnection({ host: '127.0.0.1', port: a.kind === 'tcp' ? a.port : 0 });
      actAsSwitch(sock, 0x77n);
      assert.equal((await next).features.datapathId, '0000000000000077');
      sock.destroy();
    } finally {
      await listener.close();
    }
  });

  it('a listener rejects a switch that speaks only OpenFlow 1.0', async () => {
    const listener = await OfListener.listen(`unix:${dir}/ctl.sock`);
    try {
      const rejected = new Promise<string>((resolve) => listener.once('rejected', (r) => resolve(r.reason)));
      const sock = createConnection({ path: `${dir}/ctl.sock` });
      sock.on('error', () => undefined);
      sock.write(Buffer.from([1, 0, 0, 8, 0, 0, 0, 1]));
      const got: Buffer[] = [];
      sock.on('data', (d) => got.push(d));
      assert.match(await rejected, /version negotiation failed/);
      await new Promise((r) => sock.once('close', r));
      const all = Buffer.concat(got);
      const errAt = all.indexOf(Buffer.from([4, OFPT.ERROR]));
      assert.ok(errAt >= 0, 'an ERROR message was sent before closing');
      assert.equal(all.readUInt16BE(errAt + 8), 0); // HELLO_FAILED
    } finally {
      await listener.close();
    }
  });

  it('dials a switch, and after the switch drops it, dials again', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => {
      sockets.push(s);
      actAsSwitch(s, 0xabn);
    });
    await new Promise<void>((r) => server.listen(`${dir}/br0.mgmt`, r));
    const sw = new ReconnectingSwitch(`unix:${dir}/br0.mgmt`, { backoff: { initialMs: 10, maxMs: 50, factor: 2, jitter: 0 } });
    try {
      const f = await sw.start({ timeoutMs: 5000 });
      assert.equal(f.datapathId, '00000000000000ab');
      const again = new Promise((r) => sw.once('connected', r));
      (sockets[0] as Socket).destroy();
      await again;
      await sw.barrier();
      assert.equal(sw.connects, 2);
    } finally {
      sw.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
