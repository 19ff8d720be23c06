/**
 * The intent the simulated agents see, written over netmaster's Contiv REST API (/api/v1): a
 * tenant, a VXLAN network with a group whose policy has rules, and endpoints homed on given hosts.
 */
import type { RestClient } from './cluster';

export interface Topology {
  tenant: string;
  network: string;
  group: string;
  policy: string;
  /** tenant:network, tenant:policy: the keys the agents' states use */
  networkKey: string;
  policyKey: string;
}

export const DEFAULT_TOPOLOGY: Topology = {
  tenant: 'scale',
  network: 'net-a',
  group: 'web',
  policy: 'p',
  networkKey: 'scale:net-a',
  policyKey: 'scale:p',
};

/** A rule of the topology's policy: allow tcp to `port` (ruleId must be letters, digits, - or _). */
export function ruleBody(t: Topology, ruleId: string, port: number): Record<string, unknown> {
  return {
    tenantName: t.tenant,
    policyName: t.policy,
    ruleId,
    direction: 'in',
    priority: 1 + (port % 100),
    protocol: 'tcp',
    port,
    action: 'allow',
  };
}

export function rulePath(t: Topology, ruleId: string): string {
  return `/api/v1/rules/${t.tenant}:${t.policy}:${ruleId}/`;
}

/** Tenant, network (VXLAN, a /16), policy with `rules` rules, group in the network using the policy. */
export async function createTopology(rest: RestClient, t: Topology = DEFAULT_TOPOLOGY, rules = 2): Promise<void> {
  await rest.mustPost(`/api/v1/tenants/${t.tenant}/`, { tenantName: t.tenant });
  await createNetwork(rest, t.tenant, t.network, '10.64.0.0/16', 6400);
  await rest.mustPost(`/api/v1/policys/${t.tenant}:${t.policy}/`, { tenantName: t.tenant, policyName: t.policy });
  for (let i = 0; i < rules; i++) await rest.mustPost(rulePath(t, `base-${i}`), ruleBody(t, `base-${i}`, 80 + i));
  await rest.mustPost(`/api/v1/endpointGroups/${t.tenant}:${t.group}/`, {
    tenantName: t.tenant,
    groupName: t.group,
    networkName: t.network,
    policies: [t.policy],
  });
}

/** A VXLAN network `subnet` (a /16 or larger: x.y.0.0/16, gateway x.y.0.1). */
export async function createNetwork(rest: RestClient, tenant: string, name: string, subnet: string, vni: number): Promise<void> {
  const gw = subnet.replace(/\.0\/\d+$/, '.1');
  await rest.mustPost(`/api/v1/networks/${tenant}:${name}/`, {
    tenantName: tenant,
    networkName: name,
    encap: 'vxlan',
    pktTag: vni,
    subnet,
    gateway: gw,
  });
}

export interface EndpointAnswer {
  endpointID: string;
  ipAddress: string;
  homingHost: string;
}

/** One endpoint over REST, homed on `host` (with `vtepIP`: recorded as its host's agent would record it). */
export function createEndpoint(
  rest: RestClient,
  tenant: string,
  network: string,
  group: string,
  host: string,
  containerID: string,
  timeoutMs?: number,
  vtepIP = '',
): Promise<EndpointAnswer & { __ms: number }> {
  return rest.mustPost<EndpointAnswer>(
    '/api/v1/endpoints/',
    {
      tenantName: tenant,
      networkName: network,
      ...(group ? { groupName: group } : {}),
      homingHost: host,
      containerID,
      // as an agent's CreateEndpoint records it: the host's VTEP
      ...(vtepIP ? { vtepIP } : {}),
    },
    timeoutMs,
  );
}

/**
 * Run `fn(i)` for i in [0, n) with `width` in flight; `onProgress(done)` now and then. Stops at
 * the first failure (the others in flight finish) and rethrows it.
 */
export async function inFlight(
  n: number,
  width: number,
  fn: (i: number) => Promise<unknown>,
  onProgress?: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  let failed: unknown;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (failed === undefined) {
        const i = next++;
        if (i >= n) return;
        try {
          await fn(i);
        } catch (e) {
          failed ??= e;
          return;
        }
        done++;
        if (onProgress && done % 500 === 0) onProgress(done);
      }
    }),
  );
  if (failed !== undefined) throw failed;
}
