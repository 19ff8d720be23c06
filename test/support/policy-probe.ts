/**
 * A probe agent inside a container's namespace, for policy tests: one Node process that answers
 * on TCP and UDP ports with the container's name (so a test knows who answered: across tenants
 * with the same addresses, a reply from the wrong one shows) and sends probes on request (ping,
 * TCP connect, UDP request/reply), many at once, each bounded in time. Driven over stdin/stdout
 * with JSON lines, so a matrix of probes costs no process start per probe.
 *
 * Run as a program (`node policy-probe.js NAME TCP_PORTS UDP_PORTS`) it is the agent; imported,
 * `ProbeAgent.start` spawns one in a namespace and talks to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

export interface ProbeTarget {
  ip: string;
  /** `ping`, `tcp/PORT` or `udp/PORT` */
  probe: string;
}

export interface ProbeResult {
  ok: boolean;
  /** the name the answering agent gave (tcp, udp) */
  who?: string;
  /** how long the probe took */
  ms?: number;
}

type Body =
  | { op: 'probe'; targets: ProbeTarget[]; timeoutMs: number }
  | { op: 'loop'; target: ProbeTarget; everyMs: number; timeoutMs: number }
  | { op: 'stop'; loop: number };
type Request = Body & { id: number };

type Reply = { id: number; results?: ProbeResult[]; sent?: number; passed?: number; error?: string };

// ---- the agent (runs inside the container's namespace) ----

/**
 * A probe's deadline. Timers run before I/O in Node's loop, so after a busy spell a reply that
 * arrived in time would lose to the timer: the verdict waits for the I/O phase (setImmediate).
 */
function expire(fn: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(() => setImmediate(fn), ms);
}

async function probeOnce(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  const r = await probeKind(t, timeoutMs);
  return { ...r, ms: Math.round(performance.now() - t0) };
}

function probeKind(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const [kind, portText] = t.probe.split('/');
  const port = Number(portText);
  if (kind === 'ping')
    return new Promise((resolve) => {
      const p = spawn('ping', ['-n', '-q', '-c', '1', '-W', String(Math.max(1, Math.ceil(timeoutMs / 1000))), t.ip], { stdio: 'ignore' });
      p.once('exit', (code) => resolve({ ok: code === 0 }));
      p.once('error', () => resolve({ ok: false }));
    });
  if (kind === 'tcp')
    return new Promise((resolve) => {
      let got = '';
      const s = connect({ host: t.ip, port });
      let settled = false;
      const done = (r: ProbeResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        s.destroy();
        resolve(r);
      };
      const timer = expire(() => done({ ok: false }), timeoutMs);
      s.on('data', (b: Buffer) => {
        got += b.toString();
        if (got.includes('\n')) done({ ok: true, who: got.split('\n')[0]! });
      });
      s.on('error', () => done({ ok: false }));
      s.on('end', () => done(got ? { ok: true, who: got.trim() } : { ok: false }));
    });
  if (kind === 'udp')
    return new Promise((resolve) => {
      const s = createSocket('udp4');
      const send = () => s.send('probe', port, t.ip, () => undefined);
      // a few sends: the first packet of a flow may wait for an upcall; a reply to any counts
      const resend = setInterval(send, Math.max(50, Math.floor(timeoutMs / 4)));
      let settled = false;
      const done = (r: ProbeResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(resend);
        s.close();
        resolve(r);
      };
      const timer = expire(() => done({ ok: false }), timeoutMs);
      s.on('message', (m) => done({ ok: true, who: m.toString() }));
      s.on('error', () => undefined); // ICMP port unreachable: keep waiting for a real reply
      send();
    });
  return Promise.resolve({ ok: false });
}

async function agentMain(name: string, tcpPorts: number[], udpPorts: number[]): Promise<void> {
  for (const port of tcpPorts)
    await new Promise<void>((resolve, reject) => {
      const srv = createServer((s) => {
        s.on('error', () => undefined);
        s.end(`${name}\n`);
      });
      srv.once('error', reject);
      srv.listen(port, '0.0.0.0', resolve);
    });
  for (const port of udpPorts)
    await new Promise<void>((resolve, reject) => {
      const s = createSocket('udp4');
      s.on('message', (_m, r) => s.send(name, r.port, r.address));
      s.once('error', reject);
      s.bind(port, '0.0.0.0', resolve);
    });
  const loops = new Map<number, { stop: () => Promise<{ sent: number; passed: number }> }>();
  const reply = (r: Reply) => process.stdout.write(`${JSON.stringify(r)}\n`);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const req = JSON.parse(line) as Request;
    if (req.op === 'probe') {
      void Promise.all(req.targets.map((t) => probeOnce(t, req.timeoutMs))).then((results) => reply({ id: req.id, results }));
    } else if (req.op === 'loop') {
      let sent = 0;
      let passed = 0;
      const pending = new Set<Promise<void>>();
      const timer = setInterval(() => {
        sent++;
        const p: Promise<void> = probeOnce(req.target, req.timeoutMs).then((r) => {
          if (r.ok) passed++;
          pending.delete(p);
        });
        pending.add(p);
      }, req.everyMs);
      loops.set(req.id, {
        stop: async () => {
          clearInterval(timer);
          await Promise.all(pending);
          return { sent, passed };
        },
      });
      reply({ id: req.id });
    } else if (req.op === 'stop') {
      const l = loops.get(req.loop);
      loops.delete(req.loop);
      if (!l) reply({ id: req.id, error: `no loop ${req.loop}` });
      else void l.stop().then((r) => reply({ id: req.id, ...r }));
    }
  });
  rl.on('close', () => process.exit(0));
  reply({ id: 0 });
}

// ---- the test's side ----

/** One agent in a namespace; stop() ends it (the test started it, the test ends it). */
export class ProbeAgent {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
  }

  /** Start an agent named `name` in `netns`, answering on these ports; resolves once it listens. */
  static async start(netns: string, name: string, tcpPorts: number[], udpPorts: number[]): Promise<ProbeAgent> {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS; // costs every Node start ~70 ms; the agent makes no TLS call
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, __filename, name, tcpPorts.join(','), udpPorts.join(',')], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env,
    });
    const agent = new ProbeAgent(name, child);
    const ready = new Promise<Reply>((resolve) => agent.waiting.set(0, resolve));
    const failed = agent.exited.then(() => {
      throw new Error(`probe agent ${name} in ${netns} exited before it was ready`);
    });
    await Promise.race([ready, failed]);
    return agent;
  }

  private request(body: Body): Promise<Reply> {
    const id = this.nextId++;
    const p = new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, resolve);
      void this.exited.then(() => reject(new Error(`probe agent ${this.name} exited`)));
    });
    this.child.stdin!.write(`${JSON.stringify({ ...body, id })}\n`);
    return p;
  }

  /** Send every probe at once; each passes when answered within `timeoutMs`. */
  async probe(targets: ProbeTarget[], timeoutMs = 1000): Promise<ProbeResult[]> {
    if (targets.length === 0) return [];
    return (await this.request({ op: 'probe', targets, timeoutMs })).results ?? [];
  }

  /** Probe `target` every `everyMs` until the returned function is called; it gives how many were sent and passed. */
  async loop(target: ProbeTarget, everyMs: number, timeoutMs = 1000): Promise<() => Promise<{ sent: number; passed: number }>> {
    const started = await this.request({ op: 'loop', target, everyMs, timeoutMs });
    return async () => {
      const r = await this.request({ op: 'stop', loop: started.id });
      if (r.error) throw new Error(r.error);
      return { sent: r.sent ?? 0, passed: r.passed ?? 0 };
    };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

if (require.main === module) {
  const [name, tcp, udp] = process.argv.slice(2);
  const ports = (s: string | undefined) =>
    s
      ? s
          .split(',')
          .filter((x) => x !== '')
          .map(Number)
      : [];
  agentMain(name ?? 'agent', ports(tcp), ports(udp)).catch((e: unknown) => {
    process.stderr.write(`probe agent: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
