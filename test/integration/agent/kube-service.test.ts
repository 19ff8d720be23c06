/**
 * Kubernetes ClusterIP Services on real OVS with real traffic (lab `ksvc`: three hosts, a VXLAN
 * pod network, the real agents fed by a fabric file, pods plugged by the real CNI shim and carried
 * as pod endpoints). The Service is as netmaster sends it (kube-service-view.ts): key
 * `kube:ks/web`, cluster IP 10.96.73.10 outside the pod network (the client reaches it through its
 * gateway), one provider per host, the named targetPort `http` being 8073 on p1 and p2 but 9073 on
 * p3 (each provider's own port):
 * - 150 new connections from c1 spread over all three (counted per provider);
 * - NodePort (node-ports.ts, externalTrafficPolicy Local): a connection from host2's namespace to
 *   each host's address at the node port reaches that host's provider (p3 at its own port);
 * - p2 removed from the endpoints (as when its EndpointSlice entry goes): new connections avoid it;
 * - a large Service (more providers than a stored list holds, issue 19): the three pods and 297
 *   more addresses (endpoints homed on host2 that no namespace answers for): host1's select group
 *   has all 300 buckets, and new connections reach every real pod through it; with 997 more, the
 *   most a service balances over (SERVICE_PROVIDERS_MAX), a group of 1000 buckets (64016 bytes in
 *   one group_mod) is installed.
 */
import { strict as assert } from 'node:assert';
import { ProbeAgent, type ProbeResult } from '../../support/policy-probe';
import { waitFor } from '../../../lib/clock';
import { SERVICE_PROVIDERS_MAX } from '../../../lib/kinds/limits';
import { AgentLab, Ctr, hostState, Scenario } from './support';

const LAB = 'ksvc';
const NET = { tenant: 'ks', network: 'pods' };
const C1: Ctr = { name: 'c1', host: 'host1', ...NET, ip: '10.73.1.10', mac: '02:00:00:73:01:0a' };
const P1: Ctr = { name: 'p1', host: 'host1', ...NET, ip: '10.73.1.11', mac: '02:00:00:73:01:0b' };
const P2: Ctr = { name: 'p2', host: 'host2', ...NET, ip: '10.73.1.12', mac: '02:00:00:73:01:0c' };
const P3: Ctr = { name: 'p3', host: 'host3', ...NET, ip: '10.73.1.13', mac: '02:00:00:73:01:0d' };
const PROVIDERS = [P1, P2, P3];
const SC: Scenario = {
  encap: 'vxlan',
  tenants: [{ name: 'ks', vrfId: 11, ctZone: 73 }],
  // a /21: room for the large Service's addresses beside the pods
  networks: [{ tenant: 'ks', name: 'pods', tag: 7301, subnet: '10.73.0.0/21', gateway: '10.73.1.254', networkId: 1 }],
  containers: [C1, ...PROVIDERS],
};
const CLUSTER_IP = '10.96.73.10';
/** the pods' `http` container port: p3 declares another number (a named targetPort resolves per pod) */
const HTTP: Record<string, number> = { p1: 8073, p2: 8073, p3: 9073 };

/** the Service is a NodePort one, externalTrafficPolicy Local: every host DNATs this port to its local providers */
const NODE_PORT = 30073;

const log = (msg: string) => console.log(`      [kube-service] ${msg}`);

/** Addresses-only providers of the large Service: endpoints on host2 nothing answers for. */
const EXTRA = Array.from({ length: 997 }, (_, i) => ({
  id: `ep-x${i}`,
  network: 'ks:pods',
  host: 'host2',
  ip: `10.73.${2 + Math.floor(i / 250)}.${(i % 250) + 1}`,
  mac: `02:00:00:73:${(2 + (i >> 8)).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
  containerId: `ctr-x${i}`,
}));

/** The fabric with pods as pod endpoints and the Service with these providers (and `extra` endpoints among them). */
function stateWith(lab: AgentLab, providers: Ctr[], extra: typeof EXTRA = []): unknown {
  const base = hostState(lab.plan, SC) as { endpoints: Array<Record<string, unknown>> } & Record<string, unknown>;
  return {
    ...base,
    endpoints: [...base.endpoints, ...extra].map((e) => {
      const name = String(e.id).slice('ep-'.length);
      const port = HTTP[name];
      return {
        ...e,
        pod: { namespace: 'ks', name, uid: `uid-${name}`, namedPorts: port ? [{ name: 'http', protocol: 'TCP', port }] : [] },
      };
    }),
    services: [
      {
        key: 'kube:ks/web',
        tenant: 'ks',
        network: '',
        kube: true,
        externalTrafficLocal: true,
        ip: CLUSTER_IP,
        ports: [{ name: 'http', port: 80, targetPort: 8073, protocol: 'tcp', nodePort: NODE_PORT }],
        providers: [
          ...providers.map((p) => ({ endpointId: `ep-${p.name}`, ip: p.ip, targetPorts: [HTTP[p.name]!] })),
          ...extra.map((e) => ({ endpointId: e.id, ip: e.ip, targetPorts: [8073] })),
        ],
      },
    ],
  };
}

function spread(results: ProbeResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const k = r.ok ? (r.who ?? '?') : 'failed';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

describe('Kubernetes ClusterIP Service on the wire (3 hosts, VXLAN, cluster IP outside the pod network)', function () {
  this.timeout(120_000);
  const lab = new AgentLab(LAB);
  const agents: ProbeAgent[] = [];
  let client: ProbeAgent;

  before(async function () {
    this.timeout(180_000);
    await lab.up(3);
    lab.writeState(stateWith(lab, PROVIDERS));
    await Promise.all(['host1', 'host2', 'host3'].map((h) => lab.startAgent(h)));
    for (const c of SC.containers) await lab.plug(c);
    client = await ProbeAgent.start(lab.ns(C1), 'c1', [], []);
    agents.push(client);
    for (const p of PROVIDERS) agents.push(await ProbeAgent.start(lab.ns(p), p.name, [HTTP[p.name]!], []));
    await waitFor(
      'providers reachable at their own ports',
      async () =>
        (
          await client.probe(
            PROVIDERS.map((p) => ({ ip: p.ip, probe: `tcp/${HTTP[p.name]}` })),
            1000,
          )
        ).every((r) => r.ok),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });

  after(async function () {
    this.timeout(60_000);
    for (const a of agents) await a.stop();
    await lab.teardown();
  });

  it('spreads 150 new connections to the cluster IP over the three providers, each at its own target port', async () => {
    const results: ProbeResult[] = [];
    for (let i = 0; i < 3; i++)
      results.push(
        ...(await client.probe(
          Array.from({ length: 50 }, () => ({ ip: CLUSTER_IP, probe: 'tcp/80' })),
          5000,
        )),
      );
    const s = spread(results);
    log(`150 connections to ${CLUSTER_IP}:80: ${JSON.stringify(s)}`);
    assert.equal(s.failed ?? 0, 0, `every connection answered: ${JSON.stringify(s)}`);
    // p3 answers only on 9073: its connections prove the per-provider target port
    for (const p of PROVIDERS) assert.ok((s[p.name] ?? 0) >= 25, `${p.name} got ${s[p.name] ?? 0} of 150 (${JSON.stringify(s)})`);
  });

  it("NodePort: a connection from another host's namespace to a host's address at the node port reaches that host's provider", async () => {
    const from = await ProbeAgent.start(lab.host('host2').netns, 'h2', [], []);
    agents.push(from);
    for (const [host, want] of [
      ['host1', 'p1'],
      ['host3', 'p3'],
      ['host2', 'p2'],
    ] as const) {
      const ip = lab.host(host).dataIp;
      let last: ProbeResult[] = [];
      await waitFor(
        `${ip}:${NODE_PORT} answered by ${want}`,
        async () => {
          last = await from.probe(
            Array.from({ length: 5 }, () => ({ ip, probe: `tcp/${NODE_PORT}` })),
            2000,
          );
          return last.every((r) => r.ok && r.who === want);
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}: ${JSON.stringify(last)}`);
      });
      log(`${host} ${ip}:${NODE_PORT}: 5 connections from host2's namespace answered by ${want}`);
    }
  });

  it('a provider removed from the endpoints: new connections avoid it', async () => {
    lab.writeState(stateWith(lab, [P1, P3]));
    // the agent applies the new file: wait until one whole round avoids p2
    let last: Record<string, number> = {};
    await waitFor(
      'no new connection reaches p2',
      async () => {
        last = spread(
          await client.probe(
            Array.from({ length: 30 }, () => ({ ip: CLUSTER_IP, probe: 'tcp/80' })),
            3000,
          ),
        );
        return (last.p2 ?? 0) === 0 && (last.failed ?? 0) === 0;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(last)}`);
    });
    const s = spread(
      await client.probe(
        Array.from({ length: 60 }, () => ({ ip: CLUSTER_IP, probe: 'tcp/80' })),
        5000,
      ),
    );
    log(`60 connections after p2 left: ${JSON.stringify(s)}`);
    assert.equal(s.p2 ?? 0, 0);
    assert.equal(s.failed ?? 0, 0);
    assert.ok((s.p1 ?? 0) > 0 && (s.p3 ?? 0) > 0, JSON.stringify(s));
  });

  it('a Service of 300 providers: its select group has 300 buckets on real OVS, new connections reach every pod; 1000 (the most) fit', async () => {
    lab.writeState(stateWith(lab, PROVIDERS, EXTRA.slice(0, 297)));
    const buckets = async () => {
      const dump = await lab.ofctl('host1', ['dump-groups', 'br-int']);
      return dump
        .split('\n')
        .filter((l) => l.includes('type=select'))
        .map((l) => (l.match(/bucket=/g) ?? []).length);
    };
    let last: number[] = [];
    await waitFor('a group of 300 buckets on host1', async () => (last = await buckets()).includes(300), {
      timeoutMs: 30_000,
      intervalMs: 300,
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}: select groups with ${JSON.stringify(last)} buckets`);
    });
    log(`host1's select groups: ${JSON.stringify(last)} buckets`);
    // 3 of 300 buckets answer: rounds of 300 connections until each pod got some (its own port: p3's 9073 too)
    const got: Record<string, number> = {};
    await waitFor(
      'every pod answers through the large group',
      async () => {
        const s = spread(
          await client.probe(
            Array.from({ length: 300 }, () => ({ ip: CLUSTER_IP, probe: 'tcp/80' })),
            1500,
          ),
        );
        for (const [k, n] of Object.entries(s)) got[k] = (got[k] ?? 0) + n;
        return PROVIDERS.every((p) => (got[p.name] ?? 0) > 0);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(got)}`);
    });
    log(`connections through the 300-bucket group: ${JSON.stringify(got)}`);
    // the most a service balances over: one group_mod of 1000 buckets, read back whole
    assert.equal(EXTRA.length + PROVIDERS.length, SERVICE_PROVIDERS_MAX);
    lab.writeState(stateWith(lab, PROVIDERS, EXTRA));
    await waitFor(
      `a group of ${SERVICE_PROVIDERS_MAX} buckets on host1`,
      async () => (last = await buckets()).includes(SERVICE_PROVIDERS_MAX),
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}: select groups with ${JSON.stringify(last)} buckets`);
    });
    log(`host1's select groups: ${JSON.stringify(last)} buckets`);
    lab.writeState(stateWith(lab, PROVIDERS));
  });
});
