/**
 * Shared pieces of the netmaster integration tests: a private etcd member (the ports and data dir
 * assigned to netmaster: 24010/24011, /tmp/nl-netmaster/etcd1) and a small HTTP client that sends
 * bodies WITHOUT a Content-Type header, as Contiv's netctl does.
 */
import { rmSync } from 'node:fs';
import http from 'node:http';
import { startEtcdMember, stopEtcdMember, waitEtcdHealthy } from '../../../deploy/lab/etcd-cluster';
import type { EtcdMemberPlan } from '../../../deploy/lab/plan';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';

export const ETCD_PLAN: EtcdMemberPlan = {
  name: 'nm1',
  clientUrl: 'http://127.0.0.1:24010',
  peerUrl: 'http://127.0.0.1:24011',
  dataDir: '/tmp/nl-netmaster/etcd1',
};

export interface TestEtcd {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** A fresh single-member etcd (its data dir wiped first); `plan` for a test file with ports of its own. */
export async function startTestEtcd(plan: EtcdMemberPlan = ETCD_PLAN, logDir = '/tmp/nl-netmaster/logs'): Promise<TestEtcd> {
  rmSync(plan.dataDir, { recursive: true, force: true });
  const pid = startEtcdMember(plan, [plan], 'nl-netmaster-test', logDir);
  const etcd = { pid, url: plan.clientUrl, stop: () => stopEtcdMember(pid) };
  try {
    await waitEtcdHealthy([plan.clientUrl], 20_000);
  } catch (e) {
    await etcd.stop();
    throw e;
  }
  return etcd;
}

export interface NetmasterOnEtcd {
  etcd: TestEtcd;
  nm: RunningNetmaster;
  /** the REST root, `.../api/v1` */
  api: string;
  stop(): Promise<void>;
}

/** A fresh etcd of its own (see startTestEtcd) and one silent netmaster on it. */
export async function startNetmasterOnEtcd(plan: EtcdMemberPlan, logDir: string): Promise<NetmasterOnEtcd> {
  const etcd = await startTestEtcd(plan, logDir);
  try {
    const nm = await startNetmaster({ etcdEndpoints: [etcd.url], logger: createLogger('nm', { level: 'silent' }) });
    return {
      etcd,
      nm,
      api: `${nm.url}/api/v1`,
      stop: async () => {
        await nm.stop();
        await etcd.stop();
      },
    };
  } catch (e) {
    await etcd.stop();
    throw e;
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON response shapes
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP call; a body is sent as JSON text with no Content-Type header (a string or Buffer as it is). */
export function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: { ...headers, ...(payload !== undefined ? { 'Content-Length': String(Buffer.byteLength(payload)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Run `fn` over `items` with at most `width` in flight. */
export async function pool<T, R>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return out;
}
