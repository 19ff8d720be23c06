/**
 * Test doubles for the OVSDB unit tests: an in-memory stream pair whose far end plays the server
 * (reads what the client sent, writes raw bytes back), and a manual clock whose sleeps wake only
 * when the test advances it.
 */
import { Duplex, PassThrough } from 'node:stream';
import { JsonStreamSplitter } from '../../../../ovs/ovsdb/framing';

export interface FakePeer {
  /** give this to the client */
  clientSide: Duplex;
  /** messages the client sent, parsed, in order */
  sent: Array<Record<string, unknown>>;
  /** raw bytes to the client */
  write(data: string | Buffer): void;
  /** a JSON value to the client */
  send(msg: unknown): void;
  /** end the stream from the server side */
  end(): void;
  /** resolve when the client has sent at least `n` messages */
  waitSent(n: number): Promise<void>;
}

export function fakePeer(): FakePeer {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const clientSide = Duplex.from({ readable: toClient, writable: fromClient });
  const splitter = new JsonStreamSplitter();
  const sent: Array<Record<string, unknown>> = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  fromClient.on('data', (c: Buffer) => {
    for (const m of splitter.push(c)) sent.push(m as Record<string, unknown>);
    for (const w of [...waiters]) {
      if (sent.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return {
    clientSide,
    sent,
    write: (d) => toClient.write(d),
    send: (m) => toClient.write(JSON.stringify(m)),
    end: () => toClient.end(),
    waitSent: (n) =>
      sent.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`client sent ${sent.length} messages, expected ${n}`)), 2000);
            waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
          }),
  };
}

/** Let pending stream events and promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
