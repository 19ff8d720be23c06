/**
 * Test doubles for the connection layer: a Transport that records what is written and lets the
 * test inject bytes, and a scripted switch that answers the handshake the way OVS does.
 */
import { Transport } from '../../../../ovs/openflow/transport';
import { OfFramer } from '../../../../ovs/openflow/framer';
import { OFPT, helloFrame, ofFrame, readOfHeader } from '../../../../ovs/openflow/connection-wire';

export class FakeTransport implements Transport {
  readonly description = 'fake:peer';
  written: Buffer[] = [];
  full = false;
  closed = false;
  closedGracefully: boolean | undefined;
  private dataCbs: Array<(b: Buffer) => void> = [];
  private drainCbs: Array<() => void> = [];
  private closeCbs: Array<(e?: Error) => void> = [];
  /** called for every write; lets a fake switch answer */
  onWrite: ((b: Buffer) => void) | undefined;

  write(buf: Buffer): boolean {
    this.written.push(buf);
    this.onWrite?.(buf);
    return !this.full;
  }
  onData(cb: (b: Buffer) => void): void {
    this.dataCbs.push(cb);
  }
  onDrain(cb: () => void): void {
    this.drainCbs.push(cb);
  }
  onClose(cb: (e?: Error) => void): void {
    this.closeCbs.push(cb);
  }
  close(graceful?: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.closedGracefully = graceful ?? false;
  }
  /** bytes arriving from the peer */
  receive(b: Buffer): void {
    for (const cb of this.dataCbs) cb(b);
  }
  drain(): void {
    this.full = false;
    for (const cb of this.drainCbs) cb();
  }
  peerCloses(err?: Error): void {
    this.closed = true;
    for (const cb of this.closeCbs) cb(err);
  }
  get writtenBytes(): number {
    return this.written.reduce((n, b) => n + b.length, 0);
  }
}

export function featuresReply(xid: number, dpid = 0x0000aabbccddeeffn): Buffer {
  const body = Buffer.alloc(24);
  body.writeBigUInt64BE(dpid, 0);
  body.writeUInt32BE(0, 8); // n_buffers
  body[12] = 254; // n_tables
  body.writeUInt32BE(0x4f, 16); // capabilities
  return ofFrame(OFPT.FEATURES_REPLY, xid, body);
}

export type Responder = (frame: Buffer, send: (b: Buffer) => void) => boolean | void;

/**
 * A switch on the other end of a FakeTransport: parses what the connection writes, answers HELLO
 * and FEATURES_REQUEST, and hands other frames to `responders` (first one returning true wins).
 */
export class FakeSwitch {
  readonly framer = new OfFramer({ versions: [4] });
  received: Buffer[] = [];
  responders: Responder[] = [];
  helloVersions: number[] = [4];
  answerEcho = true;

  constructor(readonly t: FakeTransport) {
    t.onWrite = (b) => {
      for (const f of this.framer.push(b)) this.handle(f);
    };
  }

  send(b: Buffer): void {
    this.t.receive(b);
  }

  ofType(type: number): Buffer[] {
    return this.received.filter((f) => f[1] === type);
  }

  private handle(f: Buffer): void {
    this.received.push(f);
    const h = readOfHeader(f);
    for (const r of this.responders) if (r(f, (b) => this.send(b)) === true) return;
    if (h.type === OFPT.HELLO) this.send(helloFrame(h.xid, this.helloVersions));
    else if (h.type === OFPT.FEATURES_REQUEST) this.send(featuresReply(h.xid));
    else if (h.type === OFPT.BARRIER_REQUEST) this.send(ofFrame(OFPT.BARRIER_REPLY, h.xid));
    else if (h.type === OFPT.ECHO_REQUEST && this.answerEcho) this.send(ofFrame(OFPT.ECHO_REPLY, h.xid, f.subarray(8)));
  }
}

/** Resolve pending promise callbacks. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
