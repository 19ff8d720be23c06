/**
 * Agent registration and leases. `register` grants an etcd lease (TTL configurable, default 10 s)
 * and writes the agent record under `agent/host/<host>` attached to it (plus the lease-less
 * `agent/known/<host>` marker the liveness task uses). `heartbeat` keeps the lease alive once and
 * answers ttl 0 when the lease is gone or is no longer the host's current one.
 *
 * Duplicate hosts: when a host registers while a record of it is alive, the newer registration
 * wins: the record moves to the new lease and the old lease is revoked, so the older agent's next
 * heartbeat gets ttl 0 (and that agent, if it registers again, becomes the newer one in turn).
 */
import { NetloomError } from '../../lib/errors';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { EtcdKV } from '../store/kv';
import { agentLayout, type AgentRecord } from '../store/agent-layout';

export const DEFAULT_LEASE_TTL_SECONDS = 10;

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export interface RegisterInput {
  host: string;
  vtepIp: string;
  mgmtIp: string;
  capabilities: string[];
  agentVersion: string;
}

function unavailable(e: unknown): NetloomError {
  return e instanceof NetloomError
    ? e
    : new NetloomError('UNAVAILABLE', `etcd: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export function checkHost(host: string, field = 'host'): void {
  if (!HOST_RE.test(host))
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `${field} must be a host name (letters, digits, '.', '-', '_'; 1..128 characters), got '${host}'`,
      { field },
    );
}

export class AgentRegistry {
  constructor(private readonly deps: { kv: EtcdKV; clock: Clock; logger: Logger; leaseTtlSeconds?: number }) {}

  get ttlSeconds(): number {
    return this.deps.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
  }

  async register(req: RegisterInput): Promise<{ leaseId: string; ttlSeconds: number }> {
    checkHost(req.host);
    if (req.vtepIp !== '' && !IPV4_RE.test(req.vtepIp))
      throw new NetloomError('INVALID_ARGUMENT', `vtep_ip must be an IPv4 address, got '${req.vtepIp}'`, { field: 'vtep_ip' });
    if (req.mgmtIp !== '' && !IPV4_RE.test(req.mgmtIp))
      throw new NetloomError('INVALID_ARGUMENT', `mgmt_ip must be an IPv4 address, got '${req.mgmtIp}'`, { field: 'mgmt_ip' });
    const lease = this.deps.kv.client.leaseClient;
    const key = agentLayout.host(req.host);
    try {
      const granted = await lease.leaseGrant({ TTL: this.ttlSeconds });
      const leaseId = String(granted.ID);
      const previous = await this.deps.kv.get(key);
      const record: AgentRecord = {
        host: req.host,
        vtepIp: req.vtepIp,
        mgmtIp: req.mgmtIp,
        capabilities: [...req.capabilities],
        agentVersion: req.agentVersion,
        registeredAt: new Date(this.deps.clock.now()).toISOString(),
        leaseId,
      };
      await this.deps.kv.client.kv.txn({
        compare: [],
        success: [
          { request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify(record)), lease: leaseId } },
          { request_put: { key: Buffer.from(agentLayout.known(req.host)), value: Buffer.from(req.host) } },
        ],
        failure: [],
      });
      if (previous) {
        const old = (JSON.parse(previous.value) as Partial<AgentRecord>).leaseId;
        if (old && old !== leaseId) {
          // the newer registration wins: the older agent's next heartbeat gets ttl 0
          await lease.leaseRevoke({ ID: old }).catch(() => undefined);
          this.deps.logger.warn(
            { host: req.host, oldLease: old, newLease: leaseId },
            'host registered again while alive: the older registration was revoked',
          );
        }
      }
      this.deps.logger.info({ host: req.host, vtepIp: req.vtepIp, leaseId, ttl: this.ttlSeconds }, 'agent registered');
      return { leaseId, ttlSeconds: this.ttlSeconds };
    } catch (e) {
      throw unavailable(e);
    }
  }

  /** Keep the lease alive once; ttl 0 when it is gone or not the host's current lease. */
  async heartbeat(host: string, leaseId: string): Promise<number> {
    checkHost(host);
    if (!/^[1-9]\d*$/.test(leaseId))
      throw new NetloomError('INVALID_ARGUMENT', `lease_id must be a positive integer, got '${leaseId}'`, { field: 'lease_id' });
    try {
      const rec = await this.deps.kv.get(agentLayout.host(host));
      if (!rec || (JSON.parse(rec.value) as Partial<AgentRecord>).leaseId !== leaseId) return 0;
      const stream = await this.deps.kv.client.leaseClient.leaseKeepAlive();
      try {
        const res = await new Promise<{ TTL: string }>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('lease keepalive timed out')), 5000);
          stream.on('data', (d: { TTL: string }) => {
            clearTimeout(timer);
            resolve(d);
          });
          stream.on('error', (err: Error) => {
            clearTimeout(timer);
            reject(err);
          });
          stream.write({ ID: leaseId });
        });
        const ttl = Number(res.TTL);
        return ttl > 0 ? ttl : 0;
      } finally {
        stream.end();
      }
    } catch (e) {
      throw unavailable(e);
    }
  }

  /** Revoke a lease (tests, and an agent that leaves cleanly). */
  async revoke(leaseId: string): Promise<void> {
    await this.deps.kv.client.leaseClient.leaseRevoke({ ID: leaseId }).catch(() => undefined);
  }
}
