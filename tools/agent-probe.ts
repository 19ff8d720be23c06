/**
 * Calls on netmaster's agent API with the credentials given (or none), their outcomes printed as
 * one JSON array: `{"ok":true,...}` or `{"ok":false,"code":"PERMISSION_DENIED","details":...}`
 * each. The attack test runs it inside a lab host's namespace to try what an intruder on the
 * management network would (register or watch as another host, a fake VTEP); development only.
 *
 *   node dist/tools/agent-probe.js --address HOST:PORT 'PROBE_JSON_ARRAY'
 *   PROBE: {"call": "register"|"watch"|"create-endpoint", "host": NAME, "vtep"?: IP,
 *           "ca"?: FILE, "cert"?: FILE, "key"?: FILE}   (no "ca": plaintext)
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Command } from 'commander';
import { loadAgentProto } from '../proto/loader';
import type { AgentClient } from '../proto/gen/netloom/v1/Agent';

export interface Probe {
  call: 'register' | 'watch' | 'create-endpoint';
  host: string;
  vtep?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

export type ProbeResult = { ok: true; detail?: unknown } | { ok: false; code: string; details: string };

function credentials(o: Probe): grpc.ChannelCredentials {
  if (!o.ca) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(readFileSync(o.ca), o.key ? readFileSync(o.key) : null, o.cert ? readFileSync(o.cert) : null);
}

const failed = (e: grpc.ServiceError): ProbeResult => ({ ok: false, code: grpc.status[e.code] ?? String(e.code), details: e.details });

function unary<T>(start: (cb: (err: grpc.ServiceError | null, res?: T) => void) => void): Promise<ProbeResult> {
  return new Promise((resolve) => start((err, res) => resolve(err ? failed(err) : { ok: true, detail: res })));
}

function watch(client: AgentClient, host: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const call = client.watchDesiredState({ host, resumeFromRevision: '0' });
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      call.removeAllListeners();
      call.on('error', () => undefined);
      call.cancel();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, code: 'DEADLINE_EXCEEDED', details: 'no update' }), timeoutMs);
    call.on('data', () => done({ ok: true, detail: 'an update arrived' }));
    call.on('error', (e: grpc.ServiceError) => done(failed(e)));
  });
}

export async function probe(address: string, o: Probe, timeoutMs = 5000): Promise<ProbeResult> {
  const client = new (loadAgentProto().netloom.v1.Agent)(address, credentials(o)) as AgentClient;
  const deadline = () => ({ deadline: Date.now() + timeoutMs });
  try {
    switch (o.call) {
      case 'register':
        return await unary((cb) =>
          client.register({ host: o.host, vtepIp: o.vtep ?? '', capabilities: ['vxlan'], agentVersion: 'probe' }, deadline(), cb),
        );
      case 'watch':
        return await watch(client, o.host, timeoutMs);
      case 'create-endpoint':
        return await unary((cb) => client.createEndpoint({ host: o.host, idempotencyKey: 'probe/eth0', network: 'probe' }, deadline(), cb));
      default:
        return { ok: false, code: 'USAGE', details: `unknown call ${String(o.call)}` };
    }
  } finally {
    client.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const cmd = new Command('agent-probe')
    .requiredOption('--address <host:port>', "netmaster's agent API")
    .option('--timeout-ms <ms>', 'deadline of each call', '5000')
    .argument('<probes>', 'JSON array of probes');
  cmd.parse(argv);
  const probes = JSON.parse(cmd.args[0] ?? '[]') as Probe[];
  const o = cmd.opts<{ address: string; timeoutMs: string }>();
  const out: ProbeResult[] = [];
  for (const p of probes) {
    try {
      out.push(await probe(o.address, p, Number(o.timeoutMs)));
    } catch (e) {
      out.push({ ok: false, code: 'PROBE_FAILED', details: String(e) });
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (require.main === module) void main(process.argv);
