/**
 * Shares what this replica's agents report in their heartbeats (kept in memory by registry.ts)
 * with the other replicas, whose inspect must count every host: every `periodMs` it writes, on the
 * replica's session lease (gone with the replica, like its agent records), only what changed:
 *
 * - `agent/applied/<replica>`: one key for all its agents, host -> [registration id, applied
 *   revision]. The revision written is the agent's, lowered to the newest revision that changed
 *   the cluster (ClusterCache.changedAt): revisions in between changed nothing an agent realizes,
 *   and without it these very writes would move every agent's revision on (progress marks) and
 *   be written again every period, forever.
 * - `agent/counters/<host>`: the host's rule and service counters, when they changed; guarded by the agent
 *   record this replica wrote (a host taken over by another replica is not written over), and
 *   deleted (guarded by its own last write) when the host left this replica.
 *
 * A lost session lease took these keys with it: everything is written again on the new one.
 */
import type { Clock } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { agentLayout } from '../store/agent-layout';
import type { AgentRegistry } from './registry';

export const DEFAULT_PUBLISH_MS = 2000;

/** The value of `agent/applied/<replica>`. */
export interface AppliedReport {
  replica: string;
  /** host -> [registration id, applied revision] */
  hosts: Record<string, [string, string]>;
}

/** The value of `agent/counters/<host>`. */
export interface CountersReport {
  replica: string;
  /** the registration id the counters came with */
  id: string;
  /** [rule id, packets, bytes] */
  rules: Array<[string, string, string]>;
  /** [service key, provider endpoint id, packets, bytes, connections] (absent when none) */
  services?: Array<[string, string, string, string, string]>;
}

export interface RealizationPublisherOptions {
  registry: Pick<AgentRegistry, 'replicaId' | 'agents' | 'writeOnSession' | 'sessionRenewals'>;
  /** the newest revision that changed the cluster as this replica sees it */
  changedAt(): string;
  clock: Clock;
  logger: Logger;
  periodMs?: number;
}

const minRev = (a: string, b: string): string => (BigInt(a) <= BigInt(b) ? a : b);

export class RealizationPublisher {
  private applied = '';
  /** host -> the counters value written and the revision of that write */
  private readonly counters = new Map<string, { value: string; modRevision: string }>();
  private renewals = 0;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  /** puts and deletes written so far (tests, metrics) */
  writes = 0;

  constructor(private readonly opts: RealizationPublisherOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /** Write what changed since the last call (the loop's work; tests call it too). */
  async publish(): Promise<void> {
    const reg = this.opts.registry;
    if (reg.sessionRenewals !== this.renewals) {
      // the lost lease took every key with it
      this.renewals = reg.sessionRenewals;
      this.applied = '';
      this.counters.clear();
    }
    const agents = reg.agents().sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    const changedAt = this.opts.changedAt();
    const report: AppliedReport = { replica: reg.replicaId, hosts: {} };
    for (const a of agents) report.hosts[a.host] = [a.id, minRev(a.appliedRevision, changedAt)];
    const writes: Promise<void>[] = [];
    const applied = JSON.stringify(report);
    if (applied !== this.applied) {
      const key = agentLayout.applied(reg.replicaId);
      writes.push(
        reg.writeOnSession({ keys: [key], guards: [], writes: (lease) => [{ kind: 'put', key, value: applied, lease }] }).then(() => {
          this.applied = applied;
          this.writes++;
        }),
      );
    }
    const present = new Set<string>();
    for (const a of agents) {
      present.add(a.host);
      const prev = this.counters.get(a.host);
      if (a.ruleCounters.length === 0 && a.serviceCounters.length === 0 && !prev) continue;
      const value = JSON.stringify({
        replica: reg.replicaId,
        id: a.id,
        rules: a.ruleCounters.map((c) => [c.ruleId, c.packets, c.bytes]),
        ...(a.serviceCounters.length > 0
          ? { services: a.serviceCounters.map((c) => [c.service, c.endpointId, c.packets, c.bytes, c.connections]) }
          : {}),
      } satisfies CountersReport);
      if (prev?.value === value) continue;
      const key = agentLayout.counters(a.host);
      writes.push(
        reg
          .writeOnSession({
            keys: [key],
            guards: [{ key: agentLayout.host(a.host), modRevision: a.recordRevision }],
            writes: (lease) => [{ kind: 'put', key, value, lease }],
          })
          .then((res) => {
            this.writes++;
            if (res.ok) this.counters.set(a.host, { value, modRevision: res.revision });
            else this.counters.delete(a.host); // the host is another replica's now
          }),
      );
    }
    for (const [host, prev] of this.counters) {
      if (present.has(host)) continue;
      const key = agentLayout.counters(host);
      writes.push(
        reg
          .writeOnSession({ keys: [key], guards: [{ key, modRevision: prev.modRevision }], writes: () => [{ kind: 'delete', key }] })
          .then(() => {
            this.writes++;
            this.counters.delete(host);
          }),
      );
    }
    const results = await Promise.allSettled(writes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await this.opts.clock.sleep(this.opts.periodMs ?? DEFAULT_PUBLISH_MS, signal, { unref: true });
      if (signal.aborted) return;
      try {
        await this.publish();
      } catch (e) {
        this.opts.logger.warn({ err: errorMessage(e) }, 'agent realization not published (tried again next period)');
      }
    }
  }
}
