/**
 * The agent-side CNI endpoint: a node:http request handler for the agent's unix socket. It turns
 * one request from `bin/netloom-cni` (headers = CNI_* environment, body = plugin configuration)
 * into a typed call of the injected CniBackend, and the outcome into the HTTP answer the shim
 * prints: 200 with the result (or an empty body), or a non-2xx status with a CNI error result.
 * The wire contract is documented in docs/cni.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger';
import { isNetloomError } from '../../lib/errors';
import { KeyedMutex } from '../../lib/keyed-mutex';
import { CniError, CNI_CODE, httpStatusFor, toCniError } from './errors';
import { MAX_NETCONF_BYTES } from './limits';
import { probeNetns as realProbeNetns, type NetnsProbe } from './netns-probe';
import { netconfDns, parseCniRequest, peekCniVersion, type CniEnv, type ParsedCniRequest } from './parse';
import { formatResult, mergeWithPrevResult, versionResult } from './version';
import type { CniBackend } from './types';

/** URL path the shim posts to. */
export const CNI_REQUEST_PATH = '/v1/cni';

/** HTTP request headers that carry the CNI environment (lower case, as node:http exposes them). */
export const CNI_HEADERS = {
  command: 'cni-command',
  containerId: 'cni-containerid',
  netns: 'cni-netns',
  ifName: 'cni-ifname',
  args: 'cni-args',
  path: 'cni-path',
} as const satisfies Record<keyof CniEnv, string>;

/** The netconf limit plus the newline the shim's nc transport puts after the body. */
export const DEFAULT_MAX_BODY_BYTES = MAX_NETCONF_BYTES + 1;

export interface CniServeOptions {
  /** checks CNI_NETNS before a backend sees it (default: the real one, netns-probe.ts) */
  probeNetns?: NetnsProbe;
  /** serializes ADD/DEL/CHECK per container ID (default: none, for a one-off call) */
  lock?: KeyedMutex;
}

export interface CniHandlerOptions extends Omit<CniServeOptions, 'lock'> {
  backend: CniBackend;
  logger?: Logger;
  maxBodyBytes?: number;
  /** told about every request served (metrics): its command, whether it succeeded, its time in the agent */
  onServed?: (r: { command: string; ok: boolean; ms: number }) => void;
}

export interface CniOutcome {
  status: number;
  /** JSON text, or '' when the command has no output */
  body: string;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  // node:http reads header bytes as latin1; the shim sent the variable's bytes (UTF-8) verbatim
  return s === undefined || s === '' ? undefined : Buffer.from(s, 'latin1').toString('utf8');
}

/** The CNI environment carried in the request headers. */
export function envFromHeaders(req: IncomingMessage): CniEnv {
  const env: CniEnv = {};
  for (const [key, name] of Object.entries(CNI_HEADERS) as Array<[keyof CniEnv, string]>) {
    const v = header(req, name);
    if (v !== undefined) env[key] = v;
  }
  return env;
}

/**
 * NOT_FOUND from an ADD names what the configuration refers to (tenant, network, group): the
 * spec's 7 (invalid network configuration), not 3 (unknown container), which the namespace probe
 * answers before the backend runs. A namespace that vanished meanwhile (field netns) stays 3.
 */
function unknownNetworkAsConfigError(e: unknown): unknown {
  if (!isNetloomError(e, 'NOT_FOUND') || e.field === 'netns') return e;
  return new CniError(CNI_CODE.INVALID_CONFIG, `invalid network configuration: ${e.message}`, e.field ? `field: ${e.field}` : '');
}

/** Run one parsed request against the backend. */
async function execute(parsed: ParsedCniRequest, backend: CniBackend): Promise<CniOutcome> {
  switch (parsed.command) {
    case 'VERSION':
      return { status: 200, body: JSON.stringify(versionResult(parsed.cniVersion)) };
    case 'ADD': {
      const req = parsed.req;
      const ours = await backend.add(req).catch((e: unknown) => {
        throw unknownNetworkAsConfigError(e);
      });
      const withDns = Object.keys(ours.dns).length > 0 ? ours : { ...ours, dns: netconfDns(req.netconf) };
      const merged = mergeWithPrevResult(req.prevResult, withDns);
      return { status: 200, body: JSON.stringify(formatResult(merged, req.cniVersion)) };
    }
    case 'DEL':
      try {
        await backend.del(parsed.req);
      } catch (e) {
        if (!isNetloomError(e, 'NOT_FOUND')) throw e; // DEL is idempotent: already gone is success
      }
      return { status: 200, body: '' };
    case 'CHECK': {
      const report = await backend.check(parsed.req);
      if (report.problems.length > 0) {
        throw new CniError(
          CNI_CODE.CHECK_FAILED,
          `attachment ${parsed.req.containerId}/${parsed.req.ifName} is not as expected`,
          report.problems.join('; '),
        );
      }
      return { status: 200, body: '' };
    }
    case 'STATUS': {
      const s = await backend.status(parsed.req);
      if (!s.ready) throw new CniError(s.code, s.message);
      return { status: 200, body: '' };
    }
    case 'GC': {
      const report = await backend.gc(parsed.req);
      if (report.errors.length > 0) {
        throw new CniError(
          CNI_CODE.INTERNAL,
          `GC released ${report.released.length} attachments but failed ${report.errors.length} times`,
          report.errors.join('; '),
        );
      }
      return { status: 200, body: '' };
    }
  }
}

/**
 * Serve one CNI request given its environment and body (transport-free, so tests can call it
 * directly). Never throws: failures come back as a CNI error result.
 */
export async function serveCni(env: CniEnv, body: string, backend: CniBackend, opts: CniServeOptions = {}): Promise<CniOutcome> {
  try {
    const parsed = parseCniRequest(env, body);
    if (parsed.command !== 'ADD' && parsed.command !== 'DEL' && parsed.command !== 'CHECK') return await execute(parsed, backend);
    const probe = opts.probeNetns ?? realProbeNetns;
    const work = async (): Promise<CniOutcome> => {
      await checkNetns(parsed, probe);
      return execute(parsed, backend);
    };
    return await (opts.lock ? opts.lock.run(parsed.req.containerId, work) : work());
  } catch (e) {
    const err = toCniError(e);
    return { status: httpStatusFor(err.code), body: JSON.stringify(err.toResult(peekCniVersion(body))) };
  }
}

/**
 * CNI_NETNS must be a network namespace (else 3 when missing, 4 when something else). DEL goes on
 * without one that is unusable: it releases what the host holds, as the spec asks of a DEL whose
 * namespace is gone.
 */
async function checkNetns(parsed: Extract<ParsedCniRequest, { command: 'ADD' | 'DEL' | 'CHECK' }>, probe: NetnsProbe): Promise<void> {
  const path = parsed.req.netnsPath;
  if (path === undefined) return;
  if (parsed.command !== 'DEL') return probe(path);
  try {
    await probe(path);
  } catch (e) {
    if (!(e instanceof CniError)) throw e;
    delete parsed.req.netnsPath;
  }
}

/**
 * The request body as text, or a CniError when it is larger than `limit`. An oversized body is
 * still read to its end (and dropped) before the answer goes out, so that the client, still
 * writing, never sees the connection close before it can read the error.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | CniError> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    let done = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooBig = true;
      if (!tooBig) chunks.push(c);
      else chunks.length = 0;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(
        tooBig
          ? new CniError(CNI_CODE.INVALID_CONFIG, `invalid network configuration: larger than ${limit} bytes (${size} bytes)`)
          : Buffer.concat(chunks).toString('utf8'),
      );
    });
    req.on('error', (e) => {
      if (done) return;
      done = true;
      resolve(new CniError(CNI_CODE.IO_FAILURE, 'could not read the network configuration', e.message));
    });
    req.on('close', () => {
      if (done) return;
      done = true;
      resolve(new CniError(CNI_CODE.IO_FAILURE, 'the client went away before sending the whole network configuration'));
    });
  });
}

function send(res: ServerResponse, o: CniOutcome): void {
  res.writeHead(o.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(o.body) });
  res.end(o.body);
}

/** The node:http handler to mount on the agent's unix socket. */
export function createCniHandler(opts: CniHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const serveOpts: CniServeOptions = { lock: new KeyedMutex(), ...(opts.probeNetns ? { probeNetns: opts.probeNetns } : {}) };
  return (req, res) => {
    const started = process.hrtime.bigint();
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== CNI_REQUEST_PATH || req.method !== 'POST') {
        req.resume();
        const err = new CniError(
          CNI_CODE.INVALID_ENV,
          `no such endpoint: ${req.method ?? '?'} ${req.url ?? ''} (the shim posts to ${CNI_REQUEST_PATH})`,
        );
        send(res, { status: 404, body: JSON.stringify(err.toResult('1.1.0')) });
        return;
      }
      const env = envFromHeaders(req);
      const body = await readBody(req, limit);
      const outcome =
        typeof body === 'string'
          ? await serveCni(env, body, opts.backend, serveOpts)
          : { status: httpStatusFor(body.code), body: JSON.stringify(body.toResult('1.1.0')) };
      send(res, outcome);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      opts.onServed?.({ command: env.command ?? '', ok: outcome.status === 200, ms });
      opts.logger?.info(
        {
          command: env.command,
          containerId: env.containerId,
          ifName: env.ifName,
          status: outcome.status,
          ms,
        },
        outcome.status === 200 ? 'cni request served' : `cni request failed: ${outcome.body.slice(0, 300)}`,
      );
    })().catch((e: unknown) => {
      opts.logger?.error({ err: e }, 'cni handler failed');
      if (!res.headersSent) send(res, { status: 500, body: JSON.stringify(toCniError(e).toResult('1.1.0')) });
    });
  };
}
