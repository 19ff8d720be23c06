/**
 * netmaster benchmark: creates per second of networks, groups, policies, rules and endpoints over
 * the REST API, with one client and with 8 concurrent clients, against one local etcd; endpoint
 * create latency p50/p99; netmaster's RSS once it holds 10,000 endpoints. netmaster runs as its
 * own process (bin/netmaster) so its RSS is its own. Uses etcd on 127.0.0.1:24030 and 24031 (data in
 * /tmp/nl-netmaster/bench; --etcd-port P: P and P + 1, data in /tmp/nl-netmaster/bench-P, so that
 * the smoke test and a run by hand never share an etcd). The last line printed is JSON.
 * Each phase runs --rounds times (default 3, a fresh tenant each time) and reports medians: the
 * machine is shared and single runs vary a lot.
 * Last, the "agent registrations" phase (issue 15, support/registrations.ts): 3 simulated agents
 * register --registrations endpoints (default 3000; 0 skips the phase) from their address blocks
 * with SyncEndpoints, against the same agents creating as many with CreateEndpoint in the same
 * run; `--only registrations` runs that phase alone.
 * Usage: npm run bench -- netmaster [--objects N] [--endpoints N] [--rounds R] [--total-endpoints N] [--concurrency C]
 *          [--registrations N] [--registration-batch B] [--registration-in-flight K] [--create-in-flight K]
 *          [--registration-rounds R] [--only registrations] [--etcd-port P]
 *   (also runnable alone: node dist/bench/netmaster.js ...)
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { waitFor } from '../lib/clock';
import { isAlive, stopProcess } from '../lib/process';
import { startEtcdMember, stopEtcdMember, waitEtcdHealthy } from '../deploy/lab/etcd-cluster';
import type { EtcdMemberPlan } from '../deploy/lab/plan';
import { portFree } from '../tools/agent-sim/cluster';
import { NetloomError } from '../lib/errors';
import { runRegistrations } from './support/registrations';
import { parseRegistrationsArgs } from './support/registrations-report';
import { runIfMain } from './support/standalone';

export const description =
  'netmaster REST create rates (sequential and 8 clients), endpoint latency, RSS with 10k endpoints, agent registrations vs CreateEndpoint';

const DEFAULT_ETCD_PORT = 24030;

/** The benchmark's etcd member on client port `port` (peer port + 1), and the directory of the run. */
function etcdAt(port: number): { member: EtcdMemberPlan; dir: string } {
  const dir = port === DEFAULT_ETCD_PORT ? '/tmp/nl-netmaster/bench' : `/tmp/nl-netmaster/bench-${port}`;
  return {
    member: { name: 'nmb', clientUrl: `http://127.0.0.1:${port}`, peerUrl: `http://127.0.0.1:${port + 1}`, dataDir: join(dir, 'etcd') },
    dir,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Length': String(Buffer.byteLength(payload)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`POST ${url}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET `url`: the body as text (any status). */
function getText(url: string): Promise<string> {
  return new Promise<string>((resolve, reject) =>
    http
      .get(url, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(b));
      })
      .on('error', reject),
  );
}

async function mustPost(url: string, body: unknown): Promise<void> {
  const r = await post(url, body);
  if (r.status !== 200) throw new Error(`POST ${url}: ${r.status} ${r.text}`);
}

/** Run `n` requests with `width` in flight; returns rate/s and each request's latency in ms. */
async function timed(n: number, width: number, fn: (i: number) => Promise<void>): Promise<{ perSec: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const s = performance.now();
        await fn(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { perSec: n / ((performance.now() - t0) / 1000), latencies };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : 0;
}

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export async function run(args: string[]): Promise<void> {
  const objects = arg(args, '--objects', 500);
  const endpoints = arg(args, '--endpoints', 1000);
  const totalEndpoints = arg(args, '--total-endpoints', 10_000);
  const conc = arg(args, '--concurrency', 8);
  const rounds = Math.max(1, arg(args, '--rounds', 3));
  const registrations = parseRegistrationsArgs(args);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (only !== undefined && only !== 'registrations')
    throw new NetloomError('INVALID_ARGUMENT', `--only takes 'registrations', not '${only}'`, { field: '--only' });
  if (only === 'registrations' && registrations.count === 0)
    throw new NetloomError('INVALID_ARGUMENT', '--only registrations needs --registrations above 0', { field: '--registrations' });
  const etcdPort = arg(args, '--etcd-port', DEFAULT_ETCD_PORT);
  if (!Number.isInteger(etcdPort) || etcdPort < 1024 || etcdPort > 65534)
    throw new NetloomError('INVALID_ARGUMENT', `--etcd-port must be an integer from 1024 to 65534`, { field: '--etcd-port' });
  const { member: ETCD, dir } = etcdAt(etcdPort);
  // another run's etcd on these ports: its data directory must not be removed under it
  for (const p of [etcdPort, etcdPort + 1])
    if (!(await portFree(p)))
      throw new Error(`port 127.0.0.1:${p} is taken (another netmaster benchmark running?): --etcd-port picks others`);
  rmSync(dir, { recursive: true, force: true });
  const etcdPid = startEtcdMember(ETCD, [ETCD], 'nl-netmaster-bench', join(dir, 'logs'));
  let nmPid = 0;
  try {
    await waitEtcdHealthy([ETCD.clientUrl]);
    const port = await freePort();
    const grpcPort = await freePort();
    const bin = join(__dirname, '..', '..', 'bin', 'netmaster');
    // --insecure: plaintext REST and gRPC (the simulated agents present no certificate)
    const nmArgs = ['--insecure', '--etcd', ETCD.clientUrl, '--listen-url', `127.0.0.1:${port}`, '--grpc-listen', `127.0.0.1:${grpcPort}`];
    const child = spawn(bin, [...nmArgs, '--log-level', 'warn'], {
      // netmaster's log to our stderr: stdout ends with the one JSON line (its shutdown warning came after it)
      stdio: ['ignore', 2, 2],
    });
    nmPid = child.pid ?? 0;
    const base = `http://127.0.0.1:${port}`;
    const api = `${base}/api/v1`;
    await waitFor(
      'netmaster',
      async () => (await post(`${api}/tenants/probe/`, { tenantName: 'probe' }).catch(() => undefined))?.status === 200,
      { timeoutMs: 15_000 },
    );

    const results: Record<string, unknown> = {
      ...(only ? { only } : { objects, endpoints, rounds, concurrency: conc }),
      rssIdleMiB: rssMiB(nmPid),
      loadAvg1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
    };
    process.stdout.write(`netmaster RSS after start: ${String(results.rssIdleMiB)} MiB; load average ${String(results.loadAvg1m)}\n`);
    if (only === undefined) {
      const median = (xs: number[]) => pct(xs, 50);
      for (const [mode, width] of [
        ['sequential', 1],
        [`${conc} clients`, conc],
      ] as const) {
        const tag = width === 1 ? 'seq' : 'conc';
        const rates: Record<string, number[]> = { network: [], policy: [], group: [], rule: [], endpoint: [] };
        const latencies: number[] = [];
        for (let round = 0; round < rounds; round++) {
          // a fresh tenant per round: each round starts from the same state
          const t = `b${tag}${round}`;
          await mustPost(`${api}/tenants/${t}/`, { tenantName: t });
          const nets = await timed(objects, width, (i) =>
            mustPost(`${api}/networks/${t}:n${i}/`, {
              tenantName: t,
              networkName: `n${i}`,
              encap: 'vxlan',
              subnet: `10.${100 + (i >> 8)}.${i & 255}.0/24`,
              gateway: `10.${100 + (i >> 8)}.${i & 255}.1`,
            }),
          );
          const pols = await timed(objects, width, (i) => mustPost(`${api}/policys/${t}:p${i}/`, { tenantName: t, policyName: `p${i}` }));
          const groups = await timed(objects, width, (i) =>
            mustPost(`${api}/endpointGroups/${t}:g${i}/`, {
              tenantName: t,
              groupName: `g${i}`,
              networkName: `n${i % objects}`,
              policies: [`p${i}`],
            }),
          );
          const rules = await timed(objects, width, (i) =>
            mustPost(`${api}/rules/${t}:p${i % 10}:${i}/`, {
              tenantName: t,
              policyName: `p${i % 10}`,
              ruleId: String(i),
              direction: 'in',
              priority: 1 + (i % 100),
              fromEndpointGroup: `g${(i + 1) % objects}`,
              protocol: 'tcp',
              port: 1 + i,
              action: 'allow',
            }),
          );
          await mustPost(`${api}/networks/${t}:big/`, {
            tenantName: t,
            networkName: 'big',
            encap: 'vxlan',
            subnet: '10.200.0.0/16',
            gateway: '10.200.0.1',
          });
          const eps = await timed(endpoints, width, (i) =>
            mustPost(`${api}/endpoints/`, { tenantName: t, networkName: 'big', containerID: `c${i}`, homingHost: `h${i % 8}` }),
          );
          for (const [k, r] of [
            ['network', nets],
            ['policy', pols],
            ['group', groups],
            ['rule', rules],
            ['endpoint', eps],
          ] as const)
            rates[k]?.push(r.perSec);
          latencies.push(...eps.latencies);
          process.stdout.write(
            `  round ${round + 1}/${rounds}, ${mode}: ${Object.entries(rates)
              .map(([k, v]) => `${k} ${Math.round(v[v.length - 1] ?? 0)}/s`)
              .join(', ')}\n`,
          );
        }
        const summary = Object.fromEntries(Object.entries(rates).map(([k, v]) => [`${k}PerSec`, Math.round(median(v))]));
        for (const [k, v] of Object.entries(summary))
          process.stdout.write(
            `${`${k.replace('PerSec', '')} creates, ${mode} (median of ${rounds})`.padEnd(48)} ${String(v).padStart(6)} /s\n`,
          );
        const p50 = Math.round(pct(latencies, 50) * 10) / 10;
        const p99 = Math.round(pct(latencies, 99) * 10) / 10;
        process.stdout.write(`${`endpoint create latency p50 / p99, ${mode}`.padEnd(48)} ${p50} / ${p99} ms\n`);
        results[tag] = { ...summary, endpointLatencyMs: { p50, p99 } };
      }
      // fill up to the total and measure RSS
      const have = 2 * rounds * endpoints;
      if (totalEndpoints > have) {
        await mustPost(`${api}/networks/bconc0:fill/`, {
          tenantName: 'bconc0',
          networkName: 'fill',
          encap: 'vxlan',
          subnet: '10.201.0.0/16',
        });
        await timed(totalEndpoints - have, conc, (i) =>
          mustPost(`${api}/endpoints/`, { tenantName: 'bconc0', networkName: 'fill', containerID: `f${i}`, homingHost: `h${i % 8}` }),
        );
      }
      const rss = rssMiB(nmPid);
      const metrics = await getText(`${base}/metrics`);
      const heapUsed = Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1] ?? 0);
      results.heapUsedMiB = Math.round((heapUsed / 1048576) * 10) / 10;
      const check = await getText(`${api}/consistency`);
      const report = JSON.parse(check) as { clean: boolean; counts: { endpoints: number } };
      process.stdout.write(
        `netmaster RSS with ${report.counts.endpoints} endpoints: ${rss} MiB, JS heap in use ${String(results.heapUsedMiB)} MiB (consistency clean: ${report.clean})\n`,
      );
      results.rssMiB = rss;
      results.endpointsHeld = report.counts.endpoints;
      results.consistencyClean = report.clean;
    }
    if (registrations.count > 0) {
      process.stdout.write(`agent registrations (issue 15): ${registrations.count} endpoints, ${registrations.rounds} round(s)\n`);
      results.registrations = await runRegistrations({ rest: base, grpc: `127.0.0.1:${grpcPort}` }, registrations, (line) =>
        process.stdout.write(`${line}\n`),
      );
    }
    process.stdout.write(`${JSON.stringify({ bench: 'netmaster', ...results })}\n`);
  } finally {
    if (nmPid && isAlive(nmPid)) await stopProcess(nmPid, 'netmaster');
    await stopEtcdMember(etcdPid);
    agent.destroy();
  }
}

runIfMain(module, run);
