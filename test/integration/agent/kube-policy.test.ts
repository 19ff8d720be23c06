/**
 * Kubernetes NetworkPolicy on real OVS with real traffic (lab `kcovs`: two hosts, a VXLAN network,
 * the real agents fed by a fabric file, the nine pods of the upstream e2e model plugged by the real
 * CNI shim, spread over both hosts). The fabric file carries the pods as pod endpoints with their
 * labels and named ports, and the policies and namespaces as netmaster would send them; each step
 * of a handful of upstream scenarios (test/support/netpol-scenarios.ts) is written to it, and
 * every ordered pod pair is probed over TCP and UDP on ports 80 and 81 (288 probes) until the whole
 * matrix is what the scenario says (and, for probes it does not list, what the compiled policy's
 * reference semantics say): policy updates, namespace label changes and deletes included.
 */
import { parseHostState } from '../../../netplugin/state/host-state';
import { MatrixChecker } from '../../support/policy-matrix';
import type { Cell, EndpointSpec } from '../../support/policy-cases';
import { ProbeAgent } from '../../support/policy-probe';
import { NAMESPACES, NETPOL_SCENARIOS, PODS, PORTS, WIRE_SCENARIOS, type NetpolStep } from '../../support/netpol-scenarios';
import { netpolKubeLists, netpolPodEndpoints, wireCells, type NetpolPlacement } from '../../support/netpol-state';
import { AgentLab } from './support';

const LAB = 'kcovs';
const TENANT = 'kc';
const NETWORK = 'pods';

/** x/a .11 ... z/c .33 in 10.97.1.0/24; pods alternate between the two hosts, so each namespace spans both. */
const PLACE: NetpolPlacement = {
  tenant: TENANT,
  network: NETWORK,
  ipOf: (pod) => {
    const [ns, name] = pod.split('/') as [string, string];
    return `10.97.1.${(NAMESPACES.indexOf(ns as (typeof NAMESPACES)[number]) + 1) * 10 + name.charCodeAt(0) - 96}`;
  },
  hostOf: (pod) => `host${(PODS.indexOf(pod) % 2) + 1}`,
};
/** the container's name in the lab: `xa` for x/a */
const ctrName = (pod: string) => pod.replace('/', '');
const mac = (pod: string) => `02:00:00:97:01:${PLACE.ipOf(pod).split('.')[3]!.padStart(2, '0')}`;

function fabric(lab: AgentLab, step: NetpolStep): Record<string, unknown> {
  return {
    global: { fwdMode: 'bridge', arpMode: 'proxy' },
    tenants: [{ name: TENANT, vrfId: 9, ctZone: 97 }],
    networks: [
      {
        key: `${TENANT}:${NETWORK}`,
        tenant: TENANT,
        name: NETWORK,
        encap: 'vxlan',
        pktTag: 9701,
        subnet: '10.97.1.0/24',
        gateway: '10.97.1.254',
        networkId: 1,
      },
    ],
    endpoints: netpolPodEndpoints(step, PLACE).map((e) => {
      const pod = `${e.pod.namespace}/${e.pod.name}`;
      return { ...e, mac: mac(pod), containerId: `ctr-${ctrName(pod)}` };
    }),
    vteps: lab.plan.hosts.map((h) => ({ host: h.name, vtepIp: h.dataIp })),
    ...netpolKubeLists(step, PLACE.ipOf),
  };
}

const spec = (pod: string): EndpointSpec => ({ name: ctrName(pod), host: PLACE.hostOf(pod), network: NETWORK, ip: PLACE.ipOf(pod) });

describe('Kubernetes NetworkPolicy on the wire: OVS, two hosts, the upstream model (x, y, z x a, b, c), TCP and UDP', function () {
  this.timeout(180_000);
  const lab = new AgentLab(LAB);
  const agents = new Map<string, ProbeAgent>();
  let checker: MatrixChecker;

  before(async function () {
    this.timeout(240_000);
    await lab.up(2);
    const first = NETPOL_SCENARIOS.find((s) => s.name === WIRE_SCENARIOS[0])!.steps[0]!;
    lab.writeState(fabric(lab, { ...first, policies: () => [] }));
    await Promise.all(['host1', 'host2'].map((h) => lab.startAgent(h)));
    for (const pod of PODS) await lab.plug({ name: ctrName(pod), host: PLACE.hostOf(pod), tenant: TENANT, network: NETWORK });
    for (const pod of PODS)
      agents.set(ctrName(pod), await ProbeAgent.start(lab.ns({ name: ctrName(pod) }), ctrName(pod), [...PORTS], [...PORTS]));
    checker = new MatrixChecker(agents);
    // no policy: every pod reaches every other, both protocols, across hosts
    const open = PODS.flatMap((from) =>
      PODS.filter((to) => to !== from).flatMap((to) =>
        ['tcp/80', 'udp/81'].map((probe) => ({ from: spec(from), to: spec(to), probe, verdict: 'pass' }) as Cell),
      ),
    );
    await checker.holds('no policy', open, 60_000);
  });

  after(async function () {
    this.timeout(60_000);
    for (const a of agents.values()) await a.stop();
    await lab.teardown();
  });

  for (const name of WIRE_SCENARIOS) {
    const sc = NETPOL_SCENARIOS.find((s) => s.name === name);
    if (!sc) throw new Error(`no scenario ${name}`);
    it(`${sc.name} (${sc.steps.length} step${sc.steps.length > 1 ? 's' : ''})`, async () => {
      for (const [i, step] of sc.steps.entries()) {
        const state = fabric(lab, step);
        lab.writeState(state);
        const ms = await checker.holds(`step ${i + 1} (${step.does})`, wireCells(parseHostState(state), step, PLACE, spec), 30_000);
        console.log(`      [kube-policy] ${sc.name.slice(0, 60)}: step ${i + 1} held after ${ms} ms`);
      }
    });
  }
});
