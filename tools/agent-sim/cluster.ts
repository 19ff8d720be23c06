/**
 * A control plane to simulate agents against: 1 or 3 etcd members (deploy/lab/etcd-cluster.ts)
 * and R netmaster replicas, each its own process (bin/netmaster of this tree, so its CPU and
 * memory are its own), on 127.0.0.1. Every process is started by us and stopped by recorded PID.
 * Also a small keep-alive REST client for netmaster's Contiv API.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../../lib/clock';
import { isAlive, stopProcess } from '../../lib/process';
import { startEtcdMember, stopEtcdMember, waitEtcdHealthy } from '../../deploy/lab/etcd-cluster';
import type { RestCredentials } from '../../lib/rest-credentials';
import { makeCa, makeCert, ROLE_ORG, type CertPaths } from '../../deploy/lab/pki';

export interface ControlPlaneOptions {
  /** names the etcd cluster token and the log files */
  name: string;
  /** etcd member k uses client port basePort + 2k and peer port basePort + 2k + 1 */
  etcdBasePort: number;
  etcdMembers: 1 | 3;
  replicas: number;
  /** etcd data and logs go under it (removed first) */
  dataDir: string;
  /** netmaster --agent-lease-ttl (default 10) */
  agentLeaseTtl?: number;
  /** netmaster --log-level (default warn) */
  logLevel?: string;
  /** netmaster logs: 'stderr', or a directory for one file per replica (default dataDir/logs) */
  netmasterLogs?: string;
  /** more netmaster arguments (e.g. --dead-host-grace 3600) */
  netmasterArgs?: string[];
  /** how long netmaster may take to answer /healthz (default 30 s) */
  readyTimeoutMs?: number;
  /**
   * serve the agent API over mutual TLS as a lab does (a CA and netmaster's certificate made under
   * dataDir/pki; agents need a certificate of their own: certs.ts); REST and etcd stay plaintext
   */
  agentTls?: boolean;
}

export interface NetmasterProc {
  pid: number;
  /** REST base URL, http://127.0.0.1:PORT */
  rest: string;
  /** gRPC address, 127.0.0.1:PORT */
  grpc: string;
  log: string;
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** The bin/netmaster of this tree (dist/tools/agent-sim → ../../../bin). */
export function netmasterBin(): string {
  return join(__dirname, '..', '..', '..', 'bin', 'netmaster');
}

export class ControlPlane {
  readonly etcdPids: number[] = [];
  readonly etcdUrls: string[] = [];
  readonly netmasters: NetmasterProc[] = [];
  /** with `agentTls`: the CA that signs netmaster's and the agents' certificates, and where they are */
  agentPki: { dir: string; ca: CertPaths } | undefined;
  private stopped = false;

  private constructor(readonly opts: ControlPlaneOptions) {}

  /** Start etcd and the replicas and wait until each answers; on failure stops what it started and throws. */
  static async start(opts: ControlPlaneOptions): Promise<ControlPlane> {
    const cp = new ControlPlane(opts);
    try {
      await cp.startAll();
      return cp;
    } catch (e) {
      await cp.stop();
      throw e;
    }
  }

  private async startAll(): Promise<void> {
    const o = this.opts;
    // an etcd left over on these ports (a run killed mid-way) would answer the health check and
    // hand its old data to the new netmasters: refuse to start on it
    for (let port = o.etcdBasePort; port < o.etcdBasePort + 2 * o.etcdMembers; port++)
      if (!(await portFree(port)))
        throw new Error(`port 127.0.0.1:${port} is taken (an etcd left over from an earlier run?): stop it first`);
    rmSync(o.dataDir, { recursive: true, force: true });
    const logDir = join(o.dataDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const members = Array.from({ length: o.etcdMembers }, (_, k) => ({
      name: `${o.name}-e${k}`,
      clientUrl: `http://127.0.0.1:${o.etcdBasePort + 2 * k}`,
      peerUrl: `http://127.0.0.1:${o.etcdBasePort + 2 * k + 1}`,
      dataDir: join(o.dataDir, `etcd-${k}`),
    }));
    for (const m of members) {
      this.etcdPids.push(startEtcdMember(m, members, `${o.name}-${process.pid}`, logDir));
      this.etcdUrls.push(m.clientUrl);
    }
    await waitEtcdHealthy(this.etcdUrls, 30_000);
    const tlsArgs = o.agentTls ? await this.makeAgentPki(join(o.dataDir, 'pki')) : [];
    for (let r = 0; r < o.replicas; r++) {
      const restPort = await freePort();
      const grpcPort = await freePort();
      const toStderr = o.netmasterLogs === 'stderr';
      const log = toStderr ? 'stderr' : join(o.netmasterLogs ?? logDir, `netmaster-${r}.log`);
      if (!toStderr) mkdirSync(join(log, '..'), { recursive: true });
      const fd = toStderr ? 2 : openSync(log, 'a');
      try {
        const child = spawn(
          netmasterBin(),
          [
            // the benchmark's REST client (and, without agentTls, the simulated agents) speak plaintext
            '--insecure',
            '--etcd',
            this.etcdUrls.join(','),
            '--listen-url',
            `127.0.0.1:${restPort}`,
            '--grpc-listen',
            `127.0.0.1:${grpcPort}`,
            '--agent-lease-ttl',
            String(o.agentLeaseTtl ?? 10),
            '--log-level',
            o.logLevel ?? 'warn',
            ...tlsArgs,
            ...(o.netmasterArgs ?? []),
          ],
          { stdio: ['ignore', fd, fd] },
        );
        if (child.pid === undefined) throw new Error('could not start netmaster');
        child.on('error', () => undefined);
        this.netmasters.push({ pid: child.pid, rest: `http://127.0.0.1:${restPort}`, grpc: `127.0.0.1:${grpcPort}`, log });
      } finally {
        if (!toStderr) closeSync(fd);
      }
    }
    const deadline = performance.now() + (o.readyTimeoutMs ?? 30_000);
    for (const nm of this.netmasters) {
      const rest = new RestClient(nm.rest);
      try {
        for (;;) {
          if (!isAlive(nm.pid)) throw new Error(`netmaster ${nm.pid} exited at start (log: ${nm.log})`);
          const r = await rest.get('/healthz', 2000).catch(() => undefined);
          if (r?.status === 200) break;
          if (performance.now() > deadline) throw new Error(`netmaster ${nm.rest} not ready (log: ${nm.log})`);
          await systemClock.sleep(100);
        }
      } finally {
        rest.close();
      }
    }
  }

  /** The CA and netmaster's certificate (its SAN 127.0.0.1); the netmaster arguments that serve the agent API with them. */
  private async makeAgentPki(dir: string): Promise<string[]> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
    const server = { cert: join(dir, 'netmaster.crt'), key: join(dir, 'netmaster.key') };
    await makeCa(ca, { subject: { O: 'netloom', CN: 'agent-sim CA' } });
    await makeCert(server, ca, {
      subject: { O: ROLE_ORG.netmaster, CN: 'netmaster' },
      san: 'DNS:localhost,IP:127.0.0.1',
      eku: 'serverAuth,clientAuth',
    });
    this.agentPki = { dir, ca };
    return ['--grpc-tls-cert', server.cert, '--grpc-tls-key', server.key, '--grpc-client-ca', ca.cert];
  }

  get grpcAddresses(): string[] {
    return this.netmasters.map((n) => n.grpc);
  }

  /** Stop the replicas, then etcd. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.netmasters.map((n) => stopProcess(n.pid, 'netmaster', 5000)));
    await Promise.all(this.etcdPids.map((pid) => stopEtcdMember(pid)));
  }
}

/** utime + stime of a process, in ms (from /proc/PID/stat); undefined when it is gone. */
export function processCpuMs(pid: number, clockTicks = 100): number | undefined {
  try {
    return parseProcStatCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicks);
  } catch {
    return undefined;
  }
}

/** utime + stime (fields 14 and 15) of a /proc/PID/stat line, in ms. */
export function parseProcStatCpuMs(stat: string, clockTicks = 100): number {
  // the command name (field 2) may hold spaces and parentheses: count from the last ')'
  const rest = stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state): utime is field 14, stime field 15
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unreadable /proc/PID/stat');
  return ((utime + stime) * 1000) / clockTicks;
}

/** VmRSS and VmHWM (peak) in MiB from /proc/PID/status text. */
export function parseProcStatusMemory(status: string): { rssMb: number; hwmMb: number } {
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

export function processMemory(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    return parseProcStatusMemory(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface RestAnswer {
  status: number;
  text: string;
  /** round trip in ms */
  ms: number;
}

/**
 * netmaster's REST API over keep-alive connections, HTTPS with `credentials` (a lab's: its CA and
 * admin certificate, deploy/lab/pki.ts). Never throws for an HTTP status; throws on network errors
 * and timeouts.
 */
export class RestClient {
  private readonly tls: boolean;
  private readonly agent: http.Agent;
  constructor(
    readonly base: string,
    credentials: RestCredentials = {},
  ) {
    this.tls = base.startsWith('https:');
    this.agent = this.tls
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 32,
          ...(credentials.ca ? { ca: credentials.ca } : {}),
          ...(credentials.cert && credentials.key ? { cert: credentials.cert, key: credentials.key } : {}),
        })
      : new http.Agent({ keepAlive: true, maxSockets: 32 });
  }

  request(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<RestAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = (this.tls ? https : http).request(
        `${this.base}${path}`,
        {
          method,
          agent: this.agent,
          headers:
            payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(path: string, timeoutMs?: number): Promise<RestAnswer> {
    return this.request('GET', path, undefined, timeoutMs);
  }

  post(path: string, body: unknown, timeoutMs?: number): Promise<RestAnswer> {
    return this.request('POST', path, body, timeoutMs);
  }

  /** POST that must answer 200: returns the parsed body. */
  async mustPost<T = unknown>(path: string, body: unknown, timeoutMs?: number): Promise<T & { __ms: number }> {
    const r = await this.post(path, body, timeoutMs);
    if (r.status !== 200) throw new Error(`POST ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    const parsed = (r.text ? JSON.parse(r.text) : {}) as T;
    return Object.assign(parsed as object, { __ms: r.ms }) as T & { __ms: number };
  }

  close(): void {
    this.agent.destroy();
  }
}
