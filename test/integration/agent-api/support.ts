/**
 * Shared pieces of the agent API integration tests: a real etcd (ports 26000-26999 are ours),
 * a real NetmasterService on it, the gRPC agent server, and a raw stream reader that records
 * every DesiredStateUpdate.
 */
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { createLogger, type Logger } from '../../../lib/logger';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { NetmasterService } from '../../../netmaster/service/service';
import { EtcdKV } from '../../../netmaster/store/kv';
import { startAgentServer, type AgentServerOptions, type RunningAgentServer } from '../../../netmaster/agent/server';
import { loadAgentProto } from '../../../proto/loader';
import type { AgentClient } from '../../../proto/gen/netloom/v1/Agent';
import type { DesiredStateUpdate__Output } from '../../../proto/gen/netloom/v1/DesiredStateUpdate';

export interface Env {
  etcd: EtcdFixture;
  kv: EtcdKV;
  /** the etcd client itself, for what only tests do (compact the history, inspect a lease) */
  raw: Etcd3;
  service: NetmasterService;
  logger: Logger;
}

export async function startEnv(name: string, port: number): Promise<Env> {
  const etcd = await startTestEtcd(name, port);
  const logger = createLogger('agent-api-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });
  const kv = new EtcdKV({ hosts: [etcd.endpoint], dialTimeout: 5000 });
  const raw = new Etcd3({ hosts: [etcd.endpoint], dialTimeout: 5000 });
  const service = new NetmasterService({ kv, logger });
  await service.init();
  return { etcd, kv, raw, service, logger };
}

export async function stopEnv(env: Env | undefined): Promise<void> {
  if (!env) return;
  env.kv.close();
  env.raw.close();
  await env.etcd.stop();
}

export function startServer(env: Env, extra: Partial<AgentServerOptions> = {}): Promise<RunningAgentServer> {
  return startAgentServer({ service: env.service, logger: env.logger, listen: '127.0.0.1:0', ...extra });
}

export function rawClient(address: string, creds = grpc.credentials.createInsecure()): AgentClient {
  return new (loadAgentProto().netloom.v1.Agent)(address, creds);
}

/**
 * A WatchDesiredState call whose updates are collected in `updates`. A batch of changes is
 * recorded as its changes one by one, followed by a commit marker (a change with an empty key)
 * when it commits a group: the form every test reads (the messages as received are in `raw`).
 */
export class StreamRecorder {
  readonly updates: DesiredStateUpdate__Output[] = [];
  readonly raw: DesiredStateUpdate__Output[] = [];
  ended = false;
  error: grpc.ServiceError | undefined;
  private readonly call: grpc.ClientReadableStream<DesiredStateUpdate__Output>;

  constructor(client: AgentClient, host: string, resumeFromRevision = '0') {
    this.call = client.watchDesiredState({ host, resumeFromRevision });
    this.call.on('data', (u: DesiredStateUpdate__Output) => {
      this.raw.push(u);
      if (!u.changes) return void this.updates.push(u);
      for (const change of u.changes.changes) this.updates.push({ revision: u.revision, change, kind: 'change' });
      if (u.changes.commit) this.updates.push({ revision: u.revision, change: { deleted: false, key: '' } as never, kind: 'change' });
    });
    this.call.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      this.ended = true;
    });
    this.call.on('end', () => (this.ended = true));
  }

  /** Updates after index `from` up to and including the next commit marker (or snapshot). */
  async nextGroup(from: number, timeoutMs = 5000): Promise<DesiredStateUpdate__Output[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const i = this.updates.slice(from).findIndex((u) => u.snapshot || (u.change && u.change.key === ''));
      if (i >= 0) return this.updates.slice(from, from + i + 1);
      if (this.ended) throw new Error(`stream ended: ${this.error?.message ?? 'end'}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no complete update group within ${timeoutMs} ms (have ${this.updates.length - from} updates)`);
  }

  cancel(): void {
    this.call.cancel();
  }

  /** Stop reading (HTTP/2 flow control then stops the server's sends). */
  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }
}

export async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
