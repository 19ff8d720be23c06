/**
 * Kubernetes NetworkPolicy on the nftables backend with real traffic: the nine pods of the upstream
 * e2e model as routed endpoints (a BGP network) in three host namespaces on a real kernel
 * (test/support/routed-namespaces.ts). Each host loads the table of what routedDesired gives for
 * its pods from the step's desired state (the agent's path: compilePolicy of the checked state)
 * through RoutedPolicyApplier; the same handful of upstream scenarios as the OVS test, every
 * ordered pod pair probed over TCP and UDP on ports 80 and 81 until the whole matrix is what the
 * scenario says (and, for probes it does not list, what the compiled policy decides).
 */
import { waitFor } from '../../../lib/clock';
import { routedDesired } from '../../../netplugin/routed/routed-desired';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';
import { NAMESPACES, NETPOL_SCENARIOS, PODS, PORTS, WIRE_SCENARIOS, type NetpolStep } from '../../support/netpol-scenarios';
import { netpolKubeLists, netpolPodEndpoints, wireCells, type NetpolPlacement } from '../../support/netpol-state';
import type { EndpointSpec } from '../../support/policy-cases';
import { MatrixChecker } from '../../support/policy-matrix';
import { ProbeAgent } from '../../support/policy-probe';
import { RoutedNamespaces } from '../../support/routed-namespaces';

const HOSTS = ['host1', 'host2', 'host3'];
const TENANT = 'kn';
const NETWORK = 'routed';
const SUBNET = '10.98.0.0/24';

/** x/a .11 ... z/c .33; pods round-robin over the three hosts, so each namespace spans them all. */
const PLACE: NetpolPlacement = {
  tenant: TENANT,
  network: NETWORK,
  ipOf: (pod) => {
    const [ns, name] = pod.split('/') as [string, string];
    return `10.98.0.${(NAMESPACES.indexOf(ns as (typeof NAMESPACES)[number]) + 1) * 10 + name.charCodeAt(0) - 96}`;
  },
  hostOf: (pod) => HOSTS[PODS.indexOf(pod) % HOSTS.length]!,
};
const ctrName = (pod: string) => pod.replace('/', '');
const world = new RoutedNamespaces(
  'kcn',
  HOSTS,
  PODS.map((p) => ({ name: ctrName(p), host: PLACE.hostOf(p), ip: PLACE.ipOf(p) })),
);

function desiredState(step: NetpolStep): HostState {
  return parseHostState({
    tenants: [{ name: TENANT, ctZone: 98, vrfId: 98 }],
    networks: [{ key: `${TENANT}:${NETWORK}`, tenant: TENANT, name: NETWORK, encap: 'bgp', pktTag: 98, subnet: SUBNET, networkId: 1 }],
    endpoints: netpolPodEndpoints(step, PLACE).map((e, i) => ({
      ...e,
      mac: `02:00:00:98:00:${(i + 1).toString(16).padStart(2, '0')}`,
      containerId: e.id,
    })),
    ...netpolKubeLists(step, PLACE.ipOf),
  });
}

/** Every host loads the table of its pods' policy, as its agent's routed side does. */
async function applyStep(state: HostState): Promise<void> {
  for (const h of HOSTS) {
    const records = state.endpoints
      .filter((e) => e.host === h)
      .map((e) => ({ endpointId: e.id, hostIf: world.hostIf(ctrName(`${e.pod!.namespace}/${e.pod!.name}`)), ip: e.ip, routed: true }));
    await world.appliers.get(h)!.apply(routedDesired(state, h, records).policy);
  }
}

const spec = (pod: string): EndpointSpec => ({ name: ctrName(pod), host: PLACE.hostOf(pod), network: NETWORK, ip: PLACE.ipOf(pod) });

describe('Kubernetes NetworkPolicy on the wire: nftables, routed pods on three hosts, the upstream model, TCP and UDP', function () {
  this.timeout(120_000);
  const agents = new Map<string, ProbeAgent>();
  let checker: MatrixChecker;

  async function cleanUp(): Promise<void> {
    for (const a of agents.values()) await a.stop();
    agents.clear();
    await world.cleanUp();
  }

  before(async function () {
    this.timeout(120_000);
    await cleanUp();
    await world.setUp();
    const open = desiredState({ does: 'nothing', policies: () => [], expect: [] });
    await applyStep(open);
    for (const p of PODS) agents.set(ctrName(p), await ProbeAgent.start(world.ctrNs(ctrName(p)), ctrName(p), [...PORTS], [...PORTS]));
    checker = new MatrixChecker(agents);
    await waitFor(
      'routing across hosts',
      async () => (await agents.get('xa')!.probe([{ ip: PLACE.ipOf('z/c'), probe: 'tcp/80' }], 500))[0]!.ok,
      {
        timeoutMs: 15_000,
      },
    );
  });

  after(async function () {
    this.timeout(60_000);
    await cleanUp();
  });

  for (const name of WIRE_SCENARIOS) {
    const sc = NETPOL_SCENARIOS.find((s) => s.name === name);
    if (!sc) throw new Error(`no scenario ${name}`);
    it(`${sc.name} (${sc.steps.length} step${sc.steps.length > 1 ? 's' : ''})`, async () => {
      for (const [i, step] of sc.steps.entries()) {
        const state = desiredState(step);
        await applyStep(state);
        await checker.holds(`step ${i + 1} (${step.does})`, wireCells(state, step, PLACE, spec), 15_000);
      }
    });
  }
});
