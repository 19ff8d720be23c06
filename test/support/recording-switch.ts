/**
 * A minimal recording OpenFlow 1.3 "switch" on a TCP listener, for tests and tooling: it accepts
 * a controller-side tool such as `ovs-ofctl -O OpenFlow13 add-flows tcp:127.0.0.1:PORT`, answers
 * HELLO, ECHO, FEATURES, BARRIER, GET_CONFIG, bundle control and multipart requests well enough
 * for the tool to proceed, and records every message the tool sends as raw bytes.
 */
import net from 'node:net';
import { decodeMessage, encodeMessage, readHeader } from '../../ovs/openflow/codec';
import type { OfMessage } from '../../ovs/openflow/messages';

export interface RecordingSwitch {
  port: number;
  /** every complete message received, in order, per connection */
  received: Buffer[];
  close(): Promise<void>;
}

const OFPMP_TABLE_FEATURES = 12;

function replyTo(buf: Buffer): OfMessage | undefined {
  const h = readHeader(buf, 0);
  let m: OfMessage;
  try {
    m = decodeMessage(buf);
  } catch {
    return undefined;
  }
  switch (m.type) {
    case 'echo_request':
      return { type: 'echo_reply', xid: h.xid, data: m.data };
    case 'features_request':
      return { type: 'features_reply', xid: h.xid, datapathId: 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f };
    case 'barrier_request':
      return { type: 'barrier_reply', xid: h.xid };
    case 'get_config_request':
      return { type: 'get_config_reply', xid: h.xid, flags: 0, missSendLen: 128 };
    case 'bundle_control': {
      const replyType = m.ctrlType.replace('_request', '_reply') as typeof m.ctrlType;
      return { ...m, ctrlType: replyType };
    }
    case 'multipart_request':
      if (m.body.kind === 'port_desc') return { type: 'multipart_reply', xid: h.xid, flags: 0, body: { kind: 'port_desc', ports: [] } };
      if (m.body.kind === 'desc')
        return {
          type: 'multipart_reply',
          xid: h.xid,
          flags: 0,
          body: { kind: 'desc', mfrDesc: 'netloom', hwDesc: 'fake', swDesc: 'fake', serialNum: '', dpDesc: '' },
        };
      if (m.body.kind === 'raw' && m.body.mpType === OFPMP_TABLE_FEATURES) {
        // one table (0) with the 8 required properties, all empty: enough for ovs-ofctl to go on
        const entry = Buffer.alloc(64 + 8 * 8);
        entry.writeUInt16BE(entry.length, 0);
        for (let i = 0; i < 8; i++) {
          entry.writeUInt16BE(i * 2, 64 + i * 8);
          entry.writeUInt16BE(4, 64 + i * 8 + 2);
        }
        entry.write('table0', 8, 'latin1');
        entry.writeUInt32BE(1000000, 60);
        return { type: 'multipart_reply', xid: h.xid, flags: 0, body: { kind: 'raw', mpType: OFPMP_TABLE_FEATURES, data: entry } };
      }
      return {
        type: 'multipart_reply',
        xid: h.xid,
        flags: 0,
        body: { kind: 'raw', mpType: m.body.kind === 'raw' ? m.body.mpType : 0, data: Buffer.alloc(0) },
      };
    default:
      return undefined;
  }
}

/** Start a recording switch on 127.0.0.1, an ephemeral port. */
export function startRecordingSwitch(): Promise<RecordingSwitch> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    let pending = Buffer.alloc(0);
    sock.write(encodeMessage({ type: 'hello', xid: 1, versions: [4] }));
    sock.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let off = 0;
      while (pending.length - off >= 8) {
        const len = pending.readUInt16BE(off + 2);
        if (len < 8) {
          sock.destroy();
          return;
        }
        if (pending.length - off < len) break;
        const msg = Buffer.from(pending.subarray(off, off + len));
        off += len;
        received.push(msg);
        const reply = replyTo(msg);
        if (reply) sock.write(encodeMessage(reply));
      }
      pending = pending.subarray(off);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        port,
        received,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
