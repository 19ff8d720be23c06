/**
 * Passive mode: listen on `tcp:HOST:PORT` (or `ptcp:PORT[:HOST]`) or `unix:PATH` for switches
 * that connect to us (`ovs-vsctl set-controller br0 tcp:127.0.0.1:PORT`), handshake with each,
 * and hand every ready connection to the caller. A switch that reconnects (say after
 * ovs-vswitchd restarts) simply arrives again as a new connection.
 */
import { EventEmitter } from 'node:events';
import { errorMessage } from '../../lib/errors';
import { ConnectionOptions, OfConnectionCore } from './connection-core';
import { OfAddress, TransportListener, listenTransport, parseOfAddress } from './transport-address';

export interface ListenerEvents {
  /** a switch connected and completed the handshake */
  switch: [OfConnectionCore];
  /** a connection failed its handshake */
  rejected: [{ peer: string; reason: string }];
}

export class OfListener extends EventEmitter<ListenerEvents> {
  private constructor(
    private readonly inner: TransportListener,
    private readonly conns: Set<OfConnectionCore>,
  ) {
    super();
  }

  /** The bound address (with the real port when port 0 was asked for). */
  get address(): OfAddress {
    return this.inner.address;
  }

  /** Connections that are open now. */
  get connections(): OfConnectionCore[] {
    return [...this.conns].filter((c) => c.state !== 'closed');
  }

  /** Resolves with the next switch that completes a handshake. */
  nextSwitch(timeoutMs = 30_000): Promise<OfConnectionCore> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('switch', on);
        reject(new Error(`no switch connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (c: OfConnectionCore): void => {
        clearTimeout(t);
        resolve(c);
      };
      this.once('switch', on);
    });
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close('listener closed');
    await this.inner.close();
  }

  static async listen(address: OfAddress | string, opts: ConnectionOptions = {}): Promise<OfListener> {
    const a = typeof address === 'string' ? parseOfAddress(address) : address;
    const conns = new Set<OfConnectionCore>();
    const ref: { self?: OfListener } = {};
    const inner = await listenTransport(a, (t) => {
      const conn = new OfConnectionCore(t, opts);
      conns.add(conn);
      conn.once('disconnected', () => conns.delete(conn));
      conn.start().then(
        () => ref.self?.emit('switch', conn),
        (e: unknown) => {
          conns.delete(conn);
          ref.self?.emit('rejected', { peer: t.description, reason: errorMessage(e) });
        },
      );
    });
    ref.self = new OfListener(inner, conns);
    return ref.self;
  }
}
