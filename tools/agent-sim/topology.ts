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

/**
 * Network k of `networks` and its group (the topology's own names when there is one network;
 * `net-a-k` and `web-k` when the agents are spread over several, each a /16 of its own).
 */
export function networkOf(t: Topology, k: number, networks: number): { network: string; group: string; subnet: string; vni: number } {
  const one = networks <= 1;
  return {
    network: one ? t.network : `${t.network}-${k}`,
    group: one ? t.group : `${t.group}-${k}`,
    subnet: `10.${one ? 64 : 66 + k}.0.0/16`,
    vni: (one ? 6400 : 6600) + (one ? 0 : k),
  };
}

/**
 * Tenant, `networks` networks (VXLAN, a /16 each), policy with `rules` rules, and in each network
 * a group using the policy: a rule change concerns every agent, whichever network it is in.
 */
export async function createTopology(rest: RestClient, t: Topology = DEFAULT_TOPOLOGY, rules = 2, networks = 1): Promise<void> {
  await rest.mustPost(`/api/v1/tenants/${t.tenant}/`, { tenantName: t.tenant });
  for (let k = 0; k < Math.max(1, networks); k++) {
    const n = networkOf(t, k, networks);
    await createNetwork(rest, t.tenant, n.network, n.subnet, n.vni);
  }
  await rest.mustPost(`/api/v1/policys/${t.tenant}:${t.policy}/`, { tenantName: t.tenant, policyName: t.policy });
  for (let i = 0; i < rules; i++) await rest.mustPost(rulePath(t, `base-${i}`), ruleBody(t, `base-${i}`, 80 + i));
  for (let k = 0; k < Math.max(1, networks); k++) {
    const n = networkOf(t, k, networks);
    await rest.mustPost(`/api/v1/endpointGroups/${t.tenant}:${n.group}/`, {
      tenantName: t.tenant,
      groupName: n.group,
      networkName: n.network,
      policies: [t.policy],
    });
  }
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
