/**
 * netmaster's side of netctl trace without agents: the request's validation (each bad field a 4xx
 * naming it), endpoint resolution in the tenant, which host is asked what (the destination host
 * gets the packet as the source host's tunnel or uplink output left it), and the verdict.
 */
import assert from 'node:assert/strict';
import { isNetloomError, NetloomError } from '../../../lib/errors';
import { httpStatusOf } from '../../../netmaster/rest/errors';
import type { Endpoint } from '../../../netmaster/model/schemas';
import { runTrace, type TraceDeps } from '../../../netmaster/trace/trace-service';
import { combineTrace } from '../../../netmaster/trace/combine';
import type { TraceRequest } from '../../../proto/gen/netloom/v1/TraceRequest';
import type { TraceResult__Output } from '../../../proto/gen/netloom/v1/TraceResult';

function ep(id: string, host: string, ip: string, mac: string, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    endpointID: id,
    tenantName: 't1',
    networkName: 'n1',
    network: 't1:n1',
    groupName: '',
    ipAddress: ip,
    ipv6Address: '',
    macAddress: mac,
    homingHost: host,
    intfName: '',
    vtepIP: '',
    labels: {},
    containerID: `cid-${id}`,
    containerName: `c-${id}`,
    idempotencyKey: '',
    createdAt: '',
    ...extra,
  };
}

const EPS = [
  ep('a', 'host1', '10.1.0.2', '02:00:0a:01:00:02'),
  ep('b', 'host2', '10.1.0.3', '02:00:0a:01:00:03'),
  ep('c', 'host1', '10.1.0.4', '02:00:0a:01:00:04'),
  ep('x', 'host1', '10.1.0.2', '02:00:0a:01:00:09', { tenantName: 't2', network: 't2:n1' }),
  // a registered bare-metal server (no host) in n1, and another network's container
  ep('m', '', '10.1.0.50', '02:00:0a:01:00:32', { external: true }),
  ep('d', 'host2', '10.2.0.3', '02:00:0a:02:00:03', { networkName: 'n2', network: 't1:n2' }),
];

function result(host: string, over: Partial<TraceResult__Output>): TraceResult__Output {
  return {
    host,
    flow: 'f',
    steps: [],
    decisions: [],
    outputs: [],
    dropped: false,
    dlSrc: '',
    dlDst: '',
    ttl: 64,
    tunSrc: '',
    raw: 'RAW',
    ...over,
  };
}

const decision = (direction: string, ruleId: string, action: string) => ({
  direction,
  table: direction === 'egress' ? 60 : 70,
  tableName: direction === 'egress' ? 'egressPolicy' : 'ingressPolicy',
  object: `t1:p1/${ruleId}`,
  tenant: 't1',
  policy: 'p1',
  ruleId,
  isolationEndpoint: '',
  action,
});
const out = (kind: string, over: Partial<TraceResult__Output['outputs'][number]> = {}) => ({
  port: 1,
  kind,
  endpoint: '',
  tunId: '0',
  tunDst: '',
  vlan: 0,
  ...over,
});

function deps(answers: Record<string, TraceResult__Output>, asked: Array<[string, TraceRequest]>): TraceDeps {
  return {
    listEndpoints: async () => EPS,
    getTenant: async (n) => {
      if (n !== 't1' && n !== 't2') throw new NetloomError('NOT_FOUND', `no tenant ${n}`);
      return {};
    },
    traceOnAgent: async (host, t) => {
      asked.push([host, t]);
      const a = answers[host];
      if (!a) throw new Error(`no answer for ${host}`);
      return a;
    },
    networkTag: async (k) => (k === 't1:n1' ? 300 : 301),
  };
}

async function rejects(body: unknown, code: string, field: string, status: number): Promise<void> {
  await assert.rejects(runTrace(deps({}, []), body), (e: unknown) => {
    assert.ok(isNetloomError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.field, field, e.message);
    assert.equal(httpStatusOf(e), status);
    return true;
  });
}

describe('netctl trace in netmaster (validation, resolution, routing of hops, verdict)', () => {
  const ok = { tenant: 't1', from: 'a', to: 'b', protocol: 'tcp', port: 80 };

  it('each bad field is a 4xx naming it', async () => {
    await rejects({ ...ok, tenant: undefined }, 'INVALID_ARGUMENT', 'tenant', 400);
    await rejects({ ...ok, from: '' }, 'INVALID_ARGUMENT', 'from', 400);
    await rejects({ ...ok, to: 5 }, 'INVALID_ARGUMENT', 'to', 400);
    await rejects({ ...ok, protocol: 'sctp' }, 'INVALID_ARGUMENT', 'protocol', 400);
    await rejects({ ...ok, port: 0 }, 'INVALID_ARGUMENT', 'port', 400);
    await rejects({ ...ok, port: '80' }, 'INVALID_ARGUMENT', 'port', 400);
    await rejects({ ...ok, port: undefined }, 'INVALID_ARGUMENT', 'port', 400);
    await rejects({ ...ok, protocol: 'icmp' }, 'INVALID_ARGUMENT', 'port', 400);
    await rejects({ ...ok, srcPort: 70000 }, 'INVALID_ARGUMENT', 'srcPort', 400);
    await rejects({ ...ok, tenant: 'nope' }, 'NOT_FOUND', 'tenant', 404);
    await rejects({ ...ok, from: '10.9.9.9' }, 'NOT_FOUND', 'from', 404);
    await rejects({ ...ok, to: 'x' }, 'NOT_FOUND', 'to', 404); // x is in another tenant
  });

  it('an IP naming two endpoints of the tenant is ambiguous (400 naming the field)', async () => {
    const two = [...EPS, ep('d', 'host2', '10.1.0.3', '02:00:0a:01:00:05')];
    const d = { ...deps({}, []), listEndpoints: async () => two };
    await assert.rejects(runTrace(d, { ...ok, to: '10.1.0.3' }), (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'to');
  });

  it('across hosts: the destination host traces the packet as the source host tunnelled it; ALLOW decided by the ingress rule', async () => {
    const asked: Array<[string, TraceRequest]> = [];
    const answers = {
      host1: result('host1', {
        decisions: [decision('egress', 'r1', 'allow')],
        outputs: [out('tunnel', { tunId: '100', tunDst: '10.213.1.2' })],
        dlSrc: '02:00:0a:01:00:02',
        dlDst: '02:00:0a:01:00:03',
        ttl: 63,
        tunSrc: '10.213.1.1',
      }),
      host2: result('host2', { decisions: [decision('ingress', 'r7', 'allow')], outputs: [out('endpoint', { endpoint: 'b' })] }),
    };
    const r = await runTrace(deps(answers, asked), { ...ok, from: 'c-a', to: '10.1.0.3' });
    assert.deepEqual(
      asked.map(([h, t]) => [h, t.arrival, t.srcEndpoint ?? '', t.tunId ?? '', t.tunSrc ?? '', t.tunDst ?? '', t.ttl ?? 0]),
      [
        ['host1', 'endpoint', 'a', '', '', '', 0],
        ['host2', 'tunnel', '', '100', '10.213.1.1', '10.213.1.2', 63],
      ],
    );
    assert.equal(asked[0]![1].dstPort, 80);
    assert.equal(r.verdict, 'allow');
    assert.deepEqual([r.decidedBy?.host, r.decidedBy?.direction, r.decidedBy?.policy, r.decidedBy?.rule], ['host2', 'ingress', 'p1', 'r7']);
    assert.equal(r.decisions.length, 2);
    assert.deepEqual(
      r.hops.map((h) => h.host),
      ['host1', 'host2'],
    );
    assert.equal(r.hops[0]!.raw, undefined, 'raw only when asked');
  });

  it('a VLAN network: the destination host traces the packet arriving tagged on the uplink', async () => {
    const asked: Array<[string, TraceRequest]> = [];
    const answers = {
      host1: result('host1', { outputs: [out('uplink', { vlan: 200 })] }),
      host2: result('host2', { outputs: [out('endpoint', { endpoint: 'b' })] }),
    };
    const r = await runTrace(deps(answers, asked), { ...ok, protocol: 'udp', port: 53 });
    assert.deepEqual([asked[1]![1].arrival, asked[1]![1].vlan], ['uplink', 200]);
    assert.equal(r.verdict, 'allow');
    assert.equal(r.decidedBy, undefined, 'no policy flow decided');
  });

  it('denied on the source host: DENY by the egress rule, the destination host is not asked', async () => {
    const asked: Array<[string, TraceRequest]> = [];
    const answers = { host1: result('host1', { decisions: [decision('egress', 'r2', 'deny')], dropped: true }) };
    const r = await runTrace(deps(answers, asked), { ...ok, raw: true });
    assert.equal(asked.length, 1);
    assert.equal(r.verdict, 'deny');
    assert.deepEqual([r.decidedBy?.host, r.decidedBy?.direction, r.decidedBy?.rule], ['host1', 'egress', 'r2']);
    assert.equal(r.hops[0]!.raw, 'RAW');
  });

  it('to an external endpoint: the source host alone; ALLOW when it leaves by the uplink, DENY by its egress rule', async () => {
    const asked: Array<[string, TraceRequest]> = [];
    const r = await runTrace(deps({ host2: result('host2', { outputs: [out('uplink', { vlan: 300 })] }) }, asked), {
      ...ok,
      from: 'b',
      to: '10.1.0.50',
    });
    assert.deepEqual(
      asked.map(([h, t]) => [h, t.arrival, t.dstMac]),
      [['host2', 'endpoint', '02:00:0a:01:00:32']],
    );
    assert.equal(r.verdict, 'allow');
    assert.equal(r.to.host, '');
    const denied = await runTrace(deps({ host2: result('host2', { decisions: [decision('egress', 'r3', 'deny')], dropped: true }) }, []), {
      ...ok,
      from: 'b',
      to: 'm',
    });
    assert.deepEqual([denied.verdict, denied.decidedBy?.rule], ['deny', 'r3']);
    const elsewhere = await runTrace(deps({ host2: result('host2', { outputs: [out('endpoint', { endpoint: 'b' })] }) }, []), {
      ...ok,
      from: 'b',
      to: 'm',
    });
    assert.equal(elsewhere.verdict, 'drop', 'delivered to a local port is not to the server');
  });

  it('from an external endpoint: the destination host traces it arriving tagged with its network VLAN; other networks refused', async () => {
    const asked: Array<[string, TraceRequest]> = [];
    const r = await runTrace(
      deps(
        { host2: result('host2', { decisions: [decision('ingress', 'r1', 'allow')], outputs: [out('endpoint', { endpoint: 'b' })] }) },
        asked,
      ),
      {
        ...ok,
        from: 'm',
        to: 'b',
      },
    );
    assert.deepEqual(
      asked.map(([h, t]) => [h, t.arrival, t.vlan, t.srcMac, t.srcEndpoint ?? '']),
      [['host2', 'uplink', 300, '02:00:0a:01:00:32', '']],
    );
    assert.deepEqual([r.verdict, r.decidedBy?.rule], ['allow', 'r1']);
    await rejects({ ...ok, from: 'm', to: 'd' }, 'INVALID_ARGUMENT', 'from', 400);
    await rejects({ ...ok, from: 'm', to: 'm' }, 'INVALID_ARGUMENT', 'to', 400);
  });

  it('endpoints on one host: one trace; ICMP carries no port', async () => {
    const asked: Array<[string, TraceRequest]> = [];
    const answers = { host1: result('host1', { outputs: [out('endpoint', { endpoint: 'c' })] }) };
    const r = await runTrace(deps(answers, asked), { tenant: 't1', from: 'a', to: 'c', protocol: 'ICMP' });
    assert.equal(asked.length, 1);
    assert.equal(asked[0]![1].protocol, 'icmp');
    assert.equal(asked[0]![1].dstPort, 0);
    assert.equal(r.verdict, 'allow');
    assert.equal(r.port, undefined);
  });

  it('dropped outside the policy tables: DROP naming the table; delivered elsewhere is no ALLOW', () => {
    const step = {
      table: 100,
      tableName: 'l2Forward',
      priority: 0,
      match: '',
      cookie: '0x1',
      feature: 'tableMiss',
      object: '',
      actions: ['drop'],
      pass: 1,
    };
    const dropped = combineTrace([result('host1', { dropped: true, steps: [step] })], 'b');
    assert.equal(dropped.verdict, 'drop');
    assert.deepEqual(dropped.droppedAt, { host: 'host1', table: 100, tableName: 'l2Forward', feature: 'tableMiss', object: '' });
    const elsewhere = combineTrace([result('host1', { outputs: [out('endpoint', { endpoint: 'zz' })] })], 'b');
    assert.equal(elsewhere.verdict, 'drop');
  });
});
