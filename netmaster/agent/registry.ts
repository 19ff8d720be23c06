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
import { storeError } from '../store/errors';

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
    const kv = this.deps.kv;
    const key = agentLayout.host(req.host);
    try {
      const leaseId = await kv.grantLease(this.ttlSeconds);
      const previous = await kv.get(key);
      const record: AgentRecord = {
        host: req.host,
        vtepIp: req.vtepIp,
        mgmtIp: req.mgmtIp,
        capabilities: [...req.capabilities],
        agentVersion: req.agentVersion,
        registeredAt: new Date(this.deps.clock.now()).toISOString(),
        leaseId,
      };
      await kv.commit(
        [],
        [
          { kind: 'put', key, value: JSON.stringify(record), lease: leaseId },
          { kind: 'put', key: agentLayout.known(req.host), value: req.host },
        ],
      );
      if (previous) {
        const old = (JSON.parse(previous.value) as Partial<AgentRecord>).leaseId;
        if (old && old !== leaseId) {
          // the newer registration wins: the older agent's next heartbeat gets ttl 0
          await kv.revokeLease(old).catch(() => undefined);
          this.deps.logger.warn(
            { host: req.host, oldLease: old, newLease: leaseId },
            'host registered again while alive: the older registration was revoked',
          );
        }
      }
      this.deps.logger.info({ host: req.host, vtepIp: req.vtepIp, leaseId, ttl: this.ttlSeconds }, 'agent registered');
      return { leaseId, ttlSeconds: this.ttlSeconds };
    } catch (e) {
      throw storeError(e);
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
      return await this.deps.kv.keepLeaseAlive(leaseId);
    } catch (e) {
      throw storeError(e);
    }
  }
}
