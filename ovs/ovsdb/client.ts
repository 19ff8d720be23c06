/**
 * An OVSDB client (RFC 7047): connect over a unix socket or TCP, then list_dbs, get_schema,
 * transact (results checked: the first failing operation, or the commit, becomes an OvsdbError
 * with its index), cancel (through an AbortSignal), monitor/monitor_cancel with typed row-change
 * events, lock/steal/unlock, echo. Knows nothing of the Open_vSwitch schema (see vswitch.ts).
 */
import { connect as netConnect, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { NetloomError } from '../../lib/errors';
import { OvsdbError } from './errors';
import { MonitorRequests, RowChange, rowChanges } from './monitor';
import { Operation, OperationResult, ResultsOf } from './operations';
import { JsonRpcConnection, RequestOptions, RpcOptions } from './rpc';

/** `unix:/path`, `tcp:HOST:PORT`, a bare socket path, or an explicit endpoint. */
export type OvsdbTarget = string | { path: string } | { host: string; port: number };

export interface ConnectOptions extends RpcOptions {
  /** give up connecting after this long (default 5000 ms) */
  connectTimeoutMs?: number;
}

/** Parse an OVS-style remote into a socket endpoint. */
export function parseTarget(target: OvsdbTarget): { path: string } | { host: string; port: number } {
  if (typeof target !== 'string') return target;
  if (target.startsWith('unix:')) return { path: target.slice(5) };
  if (target.startsWith('tcp:')) {
    const rest = target.slice(4);
    const colon = rest.lastIndexOf(':');
    const host = rest.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(rest.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new NetloomError('INVALID_ARGUMENT', `OVSDB target ${JSON.stringify(target)} is not tcp:HOST:PORT`, { field: 'target' });
    }
    return { host, port };
  }
  if (target.startsWith('/') || target.startsWith('.')) return { path: target };
  throw new NetloomError('INVALID_ARGUMENT', `OVSDB target ${JSON.stringify(target)} must be unix:PATH, tcp:HOST:PORT or a socket path`, {
    field: 'target',
  });
}

function openSocket(target: OvsdbTarget, timeoutMs: number): Promise<Socket> {
  const ep = parseTarget(target);
  const where = 'path' in ep ? ep.path : `${ep.host}:${ep.port}`;
  return new Promise((resolve, reject) => {
    const sock = 'path' in ep ? netConnect({ path: ep.path }) : netConnect({ host: ep.host, port: ep.port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new NetloomError('TIMEOUT', `connecting to OVSDB at ${where} took more than ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(
        new NetloomError('UNAVAILABLE', `cannot connect to OVSDB at ${where}: ${e.message}`, { cause: e, details: { target: where } }),
      );
    });
  });
}

export type MonitorListener = (changes: RowChange[]) => void;

/** A running monitor: its initial rows, later changes as events, and cancel(). */
export class Monitor {
  readonly id: string;
  readonly db: string;
  /** rows present when the monitor started (kind 'initial') */
  readonly initial: RowChange[];
  private readonly listeners = new Set<MonitorListener>();
  private readonly client: OvsdbClient;
  private cancelled = false;

  constructor(client: OvsdbClient, db: string, id: string, initial: RowChange[]) {
    this.client = client;
    this.db = db;
    this.id = id;
    this.initial = initial;
  }

  /** Listen for changes; returns a function that removes the listener. */
  onUpdate(listener: MonitorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolve with the first batch of changes that `match` accepts (bounded by `timeoutMs`). */
  waitFor(match: (c: RowChange) => boolean, timeoutMs = 10_000): Promise<RowChange> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new NetloomError('TIMEOUT', `monitor ${this.id}: no matching change within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onUpdate((changes) => {
        const hit = changes.find(match);
        if (hit) {
          clearTimeout(timer);
          off();
          resolve(hit);
        }
      });
    });
  }

  /** @internal called by the client for each `update` notification of this monitor */
  deliver(changes: RowChange[]): void {
    if (this.cancelled) return;
    for (const l of this.listeners) l(changes);
  }

  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.listeners.clear();
    await this.client.monitorCancel(this);
  }
}

export type LockListener = (event: 'locked' | 'stolen', lockId: string) => void;

export class OvsdbClient {
  readonly rpc: JsonRpcConnection;
  /** monitor id -> where its update notifications go */
  private readonly monitors = new Map<string, { deliver(changes: RowChange[]): void }>();
  private readonly lockListeners = new Set<LockListener>();
  private nextMonitor = 1;

  /** Wrap an already open stream (used by tests with an in-memory peer). */
  constructor(stream: Duplex, opts: RpcOptions = {}) {
    this.rpc = new JsonRpcConnection(stream, opts);
    this.rpc.onNotification((method, params) => this.onNotification(method, params));
  }

  static async connect(target: OvsdbTarget, opts: ConnectOptions = {}): Promise<OvsdbClient> {
    const sock = await openSocket(target, opts.connectTimeoutMs ?? 5000);
    return new OvsdbClient(sock, opts);
  }

  get isClosed(): boolean {
    return this.rpc.isClosed;
  }

  close(): Promise<void> {
    return this.rpc.close();
  }

  /**
   * Called once when the connection ends (reason undefined for a clean close or EOF). Monitors and
   * locks die with the connection: a caller that reconnects must start them again.
   */
  onClose(h: (reason: NetloomError | undefined) => void): () => void {
    return this.rpc.onClose(h);
  }

  async listDbs(opts?: RequestOptions): Promise<string[]> {
    const r = await this.rpc.request('list_dbs', [], opts);
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'string')) throw decodeError('list_dbs', r);
    return r;
  }

  /** The database schema as the server sends it (RFC 7047 3.2). */
  async getSchema(db: string, opts?: RequestOptions): Promise<DatabaseSchema> {
    const r = await this.rpc.request('get_schema', [db], opts);
    if (typeof r !== 'object' || r === null || typeof (r as { tables?: unknown }).tables !== 'object') throw decodeError('get_schema', r);
    return r as DatabaseSchema;
  }

  /** Echo: the server returns the arguments. */
  async echo(...args: unknown[]): Promise<unknown[]> {
    const r = await this.rpc.request('echo', args);
    if (!Array.isArray(r)) throw decodeError('echo', r);
    return r;
  }

  /**
   * Run the operations as one atomic transaction. Resolves with one result per operation; if any
   * operation or the commit fails, rejects with an OvsdbError naming the failing operation's
   * index (nothing was applied). Aborting `opts.signal` sends `cancel` (useful with blocking waits).
   */
  async transact<const T extends readonly Operation[]>(db: string, ops: T, opts?: RequestOptions): Promise<ResultsOf<T>> {
    if (ops.length === 0) throw new NetloomError('INVALID_ARGUMENT', 'a transaction needs at least one operation', { field: 'ops' });
    const raw = await this.rpc.request('transact', [db, ...ops], opts);
    return checkTransactResults(ops, raw) as ResultsOf<T>;
  }

  /** Start a monitor; its initial rows are in `initial`, later changes arrive through `onUpdate`. */
  async monitor(db: string, requests: MonitorRequests, opts?: RequestOptions): Promise<Monitor> {
    const id = `nl-monitor-${this.nextMonitor++}`;
    // register before sending: an update may follow the reply in the same chunk
    const pendingChanges: RowChange[][] = [];
    this.monitors.set(id, { deliver: (c) => pendingChanges.push(c) });
    try {
      const raw = await this.rpc.request('monitor', [db, id, requests], opts);
      const m = new Monitor(this, db, id, rowChanges(raw, true));
      this.monitors.set(id, m);
      for (const c of pendingChanges) m.deliver(c);
      return m;
    } catch (e) {
      this.monitors.delete(id);
      throw e;
    }
  }

  /** @internal use Monitor.cancel() */
  async monitorCancel(m: Monitor): Promise<void> {
    this.monitors.delete(m.id);
    if (this.rpc.isClosed) return;
    await this.rpc.request('monitor_cancel', [m.id]);
  }

  /** Try to take a lock: true when granted now; otherwise a 'locked' event follows when it is. */
  async lock(lockId: string): Promise<boolean> {
    return lockReply(await this.rpc.request('lock', [checkLockId(lockId)]), 'lock');
  }

  /** Take a lock from its holder (who gets 'stolen'). */
  async steal(lockId: string): Promise<boolean> {
    return lockReply(await this.rpc.request('steal', [checkLockId(lockId)]), 'steal');
  }

  async unlock(lockId: string): Promise<void> {
    await this.rpc.request('unlock', [checkLockId(lockId)]);
  }

  onLockEvent(l: LockListener): () => void {
    this.lockListeners.add(l);
    return () => this.lockListeners.delete(l);
  }

  private onNotification(method: string, params: unknown): void {
    if (method === 'update' && Array.isArray(params) && params.length === 2) {
      const m = this.monitors.get(String(params[0]));
      if (m) m.deliver(rowChanges(params[1], false));
      return;
    }
    if ((method === 'locked' || method === 'stolen') && Array.isArray(params) && typeof params[0] === 'string') {
      for (const l of this.lockListeners) l(method, params[0]);
    }
  }
}

/** The parts of an RFC 7047 database schema that callers look at. */
export interface DatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Record<
    string,
    {
      columns: Record<string, { type: unknown; ephemeral?: boolean; mutable?: boolean }>;
      isRoot?: boolean;
      indexes?: string[][];
      maxRows?: number;
    }
  >;
}

function decodeError(method: string, r: unknown): NetloomError {
  return new NetloomError('DECODE_ERROR', `unexpected ${method} reply: ${JSON.stringify(r)?.slice(0, 200)}`);
}

/** Lock names are RFC 7047 <id>s. */
function checkLockId(lockId: string): string {
  if (typeof lockId !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(lockId)) {
    throw new NetloomError('INVALID_ARGUMENT', `lock id must match [A-Za-z_][A-Za-z0-9_]*, got ${JSON.stringify(lockId)}`, {
      field: 'lockId',
    });
  }
  return lockId;
}

function lockReply(r: unknown, method: string): boolean {
  if (typeof r !== 'object' || r === null || typeof (r as { locked?: unknown }).locked !== 'boolean') throw decodeError(method, r);
  return (r as { locked: boolean }).locked;
}

/**
 * Check a transact reply against its operations (RFC 7047 4.1.3): one result per operation; an
 * operation error stops there; an extra trailing result with an error means the commit failed.
 */
export function checkTransactResults(ops: readonly Operation[], raw: unknown): OperationResult[] {
  if (!Array.isArray(raw)) throw decodeError('transact', raw);
  for (let i = 0; i < raw.length; i++) {
    const r: unknown = raw[i];
    if (r !== null && typeof r === 'object' && typeof (r as { error?: unknown }).error === 'string') {
      const { error, details } = r as { error: string; details?: unknown };
      const atCommit = i >= ops.length;
      throw new OvsdbError({
        error,
        serverDetails: details === undefined ? undefined : typeof details === 'string' ? details : JSON.stringify(details),
        method: 'transact',
        opIndex: i,
        op: atCommit ? 'commit' : ops[i]?.op,
        atCommit,
      });
    }
  }
  if (raw.length < ops.length || raw.slice(0, ops.length).some((r) => r === null || typeof r !== 'object'))
    throw decodeError('transact', raw);
  return raw.slice(0, ops.length) as OperationResult[];
}
