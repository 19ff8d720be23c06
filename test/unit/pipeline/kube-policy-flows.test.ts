/**
 * Kubernetes NetworkPolicy on the OVS backend's flows (features/policy.ts through compilePolicy):
 * - the upstream e2e scenarios (test/support/netpol-scenarios.ts), every ordered pod pair over TCP
 *   and UDP on ports 80 and 81, traced through three hosts' pipelines wired by VXLAN: a packet is
 *   delivered exactly when the scenario's matrix (or, for a probe the scenario does not list, the
 *   compiled policy's reference semantics) allows it, and an allowed one's reply comes back;
 * - the flows themselves: isolation is a deny per pod below every rule, Kubernetes' allows sit at
 *   priority 0 (above isolation, below every Contiv rule), an ipBlock's except leaves exactly its
 *   addresses out, egress named ports become per-peer port matches, SCTP ports match sctp_dst.
 */
import assert from 'node:assert/strict';
import { compilePolicy } from '../../../lib/policy/compile';
import type { EndpointPolicy } from '../../../lib/policy/model';
import { ISOLATION_PRIORITY, POLICY_BASE_PRIORITY, policyFlows, rulePriority } from '../../../netplugin/pipeline/features/policy';
import { table } from '../../../netplugin/pipeline/tables';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';
import type { Packet } from '../../support/packet-tracer';
import { expectedReachability, NETPOL_SCENARIOS, PODS, type NetpolStep, type Proto } from '../../support/netpol-scenarios';
import {
  cellText,
  expectedCells,
  MERGED_EXPECT,
  MERGED_STEP,
  netpolKubeLists,
  netpolPodEndpoints,
  podEndpointId,
  PURE_PLACEMENT,
  withContivOnXa,
} from '../../support/netpol-state';
import { ClusterFabric, portIn } from './fixture';

const P = PURE_PLACEMENT;
const VTEPS = { host1: '192.168.0.1', host2: '192.168.0.2', host3: '192.168.0.3' };

function stepState(step: NetpolStep): HostState {
  return parseHostState({
    global: { fwdMode: 'bridge', arpMode: 'proxy' },
    tenants: [{ name: P.tenant, ctZone: 96, vrfId: 96 }],
    networks: [
      {
        key: `${P.tenant}:${P.network}`,
        tenant: P.tenant,
        name: P.network,
        encap: 'vxlan',
        pktTag: 9600,
        subnet: '10.96.0.0/24',
        gateway: '10.96.0.1',
        networkId: 1,
      },
    ],
    endpoints: netpolPodEndpoints(step, P).map((e, i) => ({
      ...e,
      mac: `02:00:00:96:00:${(i + 1).toString(16).padStart(2, '0')}`,
      intfName: `v-${e.id}`,
      vtepIp: VTEPS[e.host as keyof typeof VTEPS],
      containerId: e.id,
    })),
    vteps: Object.entries(VTEPS).map(([host, vtepIp]) => ({ host, vtepIp })),
    ...netpolKubeLists(step, P.ipOf),
  });
}

function packet(full: HostState, from: string, to: string, protocol: Proto, port: number, reply = false): Packet {
  const [s, d] = [from, to].map((p) => full.endpoints.find((e) => e.id === podEndpointId(p))!) as [
    HostState['endpoints'][number],
    HostState['endpoints'][number],
  ];
  const [a, b] = reply ? [d, s] : [s, d];
  const base = {
    in_port: portIn(full, a.id),
    eth_src: a.mac,
    eth_dst: b.mac,
    eth_type: 0x0800,
    ipv4_src: a.ip,
    ipv4_dst: b.ip,
    ip_ttl: 64,
  };
  const sport = 40000;
  if (protocol === 'TCP')
    return reply
      ? { ...base, ip_proto: 6, tcp_src: port, tcp_dst: sport, tcp_flags: 0x12 }
      : { ...base, ip_proto: 6, tcp_src: sport, tcp_dst: port, tcp_flags: 0x02 };
  return reply ? { ...base, ip_proto: 17, udp_src: port, udp_dst: sport } : { ...base, ip_proto: 17, udp_src: sport, udp_dst: port };
}

function delivered(
  fabric: ClusterFabric,
  full: HostState,
  from: string,
  to: string,
  protocol: Proto,
  port: number,
  reply = false,
): boolean {
  const [src, dst] = reply ? [to, from] : [from, to];
  const s = full.endpoints.find((e) => e.id === podEndpointId(src))!;
  const d = full.endpoints.find((e) => e.id === podEndpointId(dst))!;
  return fabric
    .send(s.host, packet(full, from, to, protocol, port, reply))
    .deliveries.some((x) => x.host === d.host && x.port === portIn(full, d.id));
}

describe('Kubernetes NetworkPolicy through the OVS flows: the upstream scenarios traced across three hosts', () => {
  for (const sc of NETPOL_SCENARIOS) {
    it(sc.name, () => {
      const wrong: string[] = [];
      for (const [i, step] of sc.steps.entries()) {
        const full = stepState(step);
        const fabric = new ClusterFabric(full, VTEPS, (_h, s) => s);
        const compiled = new Map<string, EndpointPolicy>(
          Object.keys(VTEPS)
            .flatMap((h) => compilePolicy(full, h))
            .map((p) => [p.endpoint, p]),
        );
        // the scenario's own matrix where it has one, the reference semantics for the other probes
        const listed = new Map<string, boolean>();
        for (const check of step.expect)
          for (const c of expectedReachability(check).entries())
            listed.set(cellText({ ...c, port: check.port, protocol: check.protocol }), c.allowed);
        for (const cell of expectedCells((id) => compiled.get(id)!, P.ipOf)) {
          const want = listed.get(cellText(cell)) ?? cell.allowed;
          // each probe is a connection of its own
          for (const t of Object.values(fabric.tracers)) t.conntrack.flush();
          const got = delivered(fabric, full, cell.from, cell.to, cell.protocol, cell.port);
          if (got !== want)
            wrong.push(
              `step ${i + 1} (${step.does}): ${cellText(cell)}: expected ${want ? 'pass' : 'deny'}, the flows ${got ? 'pass' : 'deny'}`,
            );
          else if (got && !delivered(fabric, full, cell.from, cell.to, cell.protocol, cell.port, true))
            wrong.push(`step ${i + 1}: ${cellText(cell)}: the reply does not come back`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }
});

describe("Kubernetes NetworkPolicy and Contiv's rules on one pod, through the OVS flows", () => {
  it("a Contiv deny wins over a Kubernetes allow, a Contiv allow passes a Kubernetes isolation, the rest is Kubernetes'", () => {
    const full = parseHostState(withContivOnXa(stepState(MERGED_STEP), P));
    const fabric = new ClusterFabric(full, VTEPS, (_h, s) => s);
    const got = MERGED_EXPECT.map(([from]) => {
      for (const t of Object.values(fabric.tracers)) t.conntrack.flush();
      return [from, delivered(fabric, full, from, 'x/a', 'TCP', 80)];
    });
    assert.deepEqual(got, MERGED_EXPECT);
  });
});

describe('Kubernetes NetworkPolicy: the flows', () => {
  const step = (policies: NetpolStep['policies'], extra: Partial<NetpolStep> = {}): NetpolStep => ({
    does: 't',
    policies,
    expect: [],
    ...extra,
  });
  function flowsOn(host: string, s: NetpolStep): { flows: DesiredFlow[]; full: HostState } {
    const full = stepState(s);
    const fabric = new ClusterFabric(full, VTEPS, (_h, st) => st);
    return { flows: policyFlows(fabric.inputs[host]!), full };
  }
  const fieldOf = (f: DesiredFlow, name: string) => f.match.find((m) => m.field === name) as { value: unknown; mask?: unknown } | undefined;

  it('isolation: one deny flow per isolated pod and direction at ISOLATION_PRIORITY; allows at the base priority (rule priority 0), below every Contiv rule', () => {
    const { flows } = flowsOn(
      'host1',
      step(() => [
        {
          namespace: 'x',
          name: 'p',
          spec: {
            podSelector: {},
            policyTypes: ['Ingress', 'Egress'],
            ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }],
            egress: [{}],
          },
        },
      ]),
    );
    // host1 has x/a, y/a, z/a: only x/a is selected
    const iso = flows.filter((f) => f.priority === ISOLATION_PRIORITY);
    assert.deepEqual(iso.map((f) => [f.table === table('ingressPolicy') ? 'ingress' : 'egress', f.object]).sort(), [
      ['egress', 'isolation:pod-x-a'],
      ['ingress', 'isolation:pod-x-a'],
    ]);
    const rules = flows.filter((f) => f.object?.startsWith('k8s:'));
    assert.ok(rules.length > 0);
    for (const f of rules) assert.equal(f.priority, POLICY_BASE_PRIORITY, `${f.object}: rule priority 0`);
    assert.ok(POLICY_BASE_PRIORITY > ISOLATION_PRIORITY, 'above isolation');
    assert.ok(rulePriority({ priority: 1, action: 'allow' }) > POLICY_BASE_PRIORITY, "below Contiv's lowest rule (priority 1)");
    assert.ok(
      rules.some((f) => f.table === table('ingressPolicy') && fieldOf(f, 'ipv4_src')?.value === P.ipOf('x/b')),
      'the ingress allow names x/b as the source',
    );
  });

  it('an ipBlock with except: the flows match the block minus exactly the excepted address', () => {
    const { flows } = flowsOn(
      'host1',
      step((ip) => [
        {
          namespace: 'x',
          name: 'cidr',
          spec: {
            podSelector: { matchLabels: { pod: 'a' } },
            policyTypes: ['Egress'],
            egress: [{ to: [{ ipBlock: { cidr: '10.96.0.0/24', except: [`${ip('x/b')}/32`] } }] }],
          },
        },
      ]),
    );
    const dsts = flows
      .filter((f) => f.table === table('egressPolicy'))
      .map((f) => fieldOf(f, 'ipv4_dst'))
      .filter((m): m is { value: string; mask?: string } => m !== undefined)
      .map((m) => ({ base: m.value, mask: m.mask }));
    const num = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const covers = (a: string) => dsts.some((d) => ((num(a) ^ num(d.base)) & (d.mask ? num(d.mask) : 0xffffffff)) >>> 0 === 0);
    const xb = P.ipOf('x/b');
    assert.ok(!covers(xb), 'the excepted address is not matched');
    for (let last = 0; last < 256; last++) {
      const a = `10.96.0.${last}`;
      if (a !== xb) assert.ok(covers(a), `${a} is matched`);
    }
    assert.equal(dsts.length, 8, 'a /24 minus one address is 8 prefixes (/25 ... /32)');
  });

  it('egress named ports: each peer pod gets the port its own container names, SCTP ports match sctp_dst', () => {
    const { flows } = flowsOn(
      'host1',
      step(
        () => [
          {
            namespace: 'x',
            name: 'web',
            spec: {
              podSelector: { matchLabels: { pod: 'a' } },
              policyTypes: ['Egress'],
              egress: [
                { to: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 'web' }, { protocol: 'SCTP', port: 3868 }] },
              ],
            },
          },
        ],
        {
          extraNamedPorts: {
            'y/a': [{ name: 'web', protocol: 'TCP', containerPort: 8080 }],
            'y/b': [{ name: 'web', protocol: 'TCP', containerPort: 9090 }],
          },
        },
      ),
    );
    const egress = flows.filter((f) => f.table === table('egressPolicy') && f.object?.startsWith('k8s:x/web/egress/0'));
    // plain flows (few addresses): each carries a peer address and its port together
    const pairs = egress
      .filter((f) => fieldOf(f, 'tcp_dst'))
      .map((f) => `${String(fieldOf(f, 'ipv4_dst')?.value)}:${String(fieldOf(f, 'tcp_dst')?.value)}`)
      .sort();
    assert.deepEqual(pairs, [`${P.ipOf('y/a')}:8080`, `${P.ipOf('y/b')}:9090`]);
    const sctp = flows.filter((f) => f.table === table('egressPolicy') && fieldOf(f, 'sctp_dst'));
    assert.ok(
      sctp.length > 0 && sctp.every((f) => fieldOf(f, 'sctp_dst')!.value === 3868 && fieldOf(f, 'ip_proto')!.value === 132),
      'SCTP port 3868',
    );
  });

  it('every scenario pod has its policy flows only on its own host', () => {
    const s = NETPOL_SCENARIOS.find((x) => x.name.includes("'default-deny-all'"))!.steps[0]!;
    for (const host of Object.keys(VTEPS)) {
      const { flows } = flowsOn(host, s);
      const mine = PODS.filter((p) => P.hostOf(p) === host && p.startsWith('x/')).map((p) => `isolation:${podEndpointId(p)}`);
      assert.deepEqual([...new Set(flows.filter((f) => f.priority === ISOLATION_PRIORITY).map((f) => f.object))].sort(), mine.sort());
    }
  });
});
