/**
 * The agent's side of netmaster -> agent queries (`netctl trace`): the agent listens on no port,
 * so it keeps the Queries stream open on the replica that holds its registration (netmaster
 * routes a query there: docs/netmaster.md) and answers each query with AnswerQuery on that same
 * replica. When the registration moves to another replica the stream moves with it; when the
 * stream breaks it is opened again after a pause (doubling up to a cap). Queries are answered
 * concurrently; a handler's error travels back as the answer's error code, message and field.
 */
import type * as grpc from '@grpc/grpc-js';
import { backoffDelay } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import { errorMessage, isNetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { AgentQuery__Output } from '../../proto/gen/netloom/v1/AgentQuery';
import type { QueryAnswer } from '../../proto/gen/netloom/v1/QueryAnswer';
import type { NetmasterClient } from './client';

/** Answers one query: the answer's result fields (its id and host are filled in). */
export type QueryHandler = (q: AgentQuery__Output) => Promise<Omit<QueryAnswer, 'host' | 'id'>>;

export interface QueryFollowerOptions {
  logger?: Logger;
  clock?: Clock;
  backoff?: { initialMs?: number; maxMs?: number };
}

type Client = Pick<NetmasterClient, 'registeredReplica' | 'openQueries' | 'answerQuery' | 'on' | 'off'>;

export class QueryFollower {
  private running = false;
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private stream: grpc.ClientReadableStream<AgentQuery__Output> | undefined;
  private streamIndex: number | undefined;
  private readonly clock: Clock;
  readonly stats = { opened: 0, queries: 0, failures: 0 };

  constructor(
    private readonly client: Client,
    private readonly handler: QueryHandler,
    private readonly opts: QueryFollowerOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Whether a query stream is open now (on the replica of the registration). */
  get open(): boolean {
    return this.stream !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.client.on('registeredAt', this.onRegistered);
    this.loop = this.follow();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.client.off('registeredAt', this.onRegistered);
    this.stream?.cancel();
    await this.loop;
  }

  /** A registration at another replica: the stream moves there. */
  private readonly onRegistered = (index: number): void => {
    if (this.stream && this.streamIndex !== index) this.stream.cancel();
    this.wake?.();
  };

  private wake: (() => void) | undefined;

  private async follow(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const index = this.client.registeredReplica;
      if (index === undefined) {
        // not registered yet: wait for the registration (or stop)
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.stopping.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        this.wake = undefined;
        continue;
      }
      const gotAny = await this.followOnce(index);
      if (!this.running) return;
      failures = gotAny ? 0 : failures + 1;
      const backoff = { initialMs: this.opts.backoff?.initialMs ?? 200, maxMs: this.opts.backoff?.maxMs ?? 5000 };
      await this.clock.sleep(backoffDelay(failures, backoff), this.stopping.signal);
    }
  }

  /** One stream on the replica at `index` until it ends; resolves whether it opened. */
  private followOnce(index: number): Promise<boolean> {
    return new Promise((resolve) => {
      let opened = false;
      const stream = this.client.openQueries(index);
      this.stream = stream;
      this.streamIndex = index;
      const done = (reason: string): void => {
        if (this.stream !== stream) return;
        this.stream = undefined;
        this.streamIndex = undefined;
        if (this.running) this.opts.logger?.debug({ replica: index, reason }, 'query stream ended');
        resolve(opened);
      };
      stream.on('metadata', () => {
        opened = true;
        this.stats.opened++;
      });
      stream.on('data', (q: AgentQuery__Output) => void this.answer(index, q));
      stream.on('error', (e: Error) => done(errorMessage(e)));
      stream.on('end', () => done('ended'));
    });
  }

  private async answer(index: number, q: AgentQuery__Output): Promise<void> {
    this.stats.queries++;
    let answer: Omit<QueryAnswer, 'host'>;
    try {
      answer = { id: q.id, ...(await this.handler(q)) };
    } catch (e) {
      this.stats.failures++;
      answer = isNetloomError(e)
        ? { id: q.id, errorCode: e.code, errorMessage: e.message, errorField: e.field ?? '' }
        : { id: q.id, errorCode: 'INTERNAL', errorMessage: errorMessage(e) };
    }
    try {
      await this.client.answerQuery(index, answer);
    } catch (e) {
      this.opts.logger?.warn({ err: errorMessage(e), id: q.id, replica: index }, 'query answer not delivered');
    }
  }
}
