/**
 * Evaluator equivalence: for random compiled policies (shared rules, overlapping priorities,
 * address sets with exclusions, several services, isolation, two tenants) and random packets,
 * the interpreter of the rendered model (policy-interpreter.ts) agrees with lib/policy/evaluate.ts:
 * a new connection passes exactly when the source's egress and the destination's ingress allow
 * it and it does not cross tenants; the original direction of a connection admitted under an
 * older generation is judged the same way. NETLOOM_FUZZ_RUNS sets the number of policies
 * (default 300, each with 40 packets: well under a few seconds).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { passes } from '../../../lib/policy/evaluate';
import type { AddressSet, DirectionPolicy, EndpointPolicy, PolicyRule, Protocol, Service } from '../../../lib/policy/model';
import { routedPolicyModel, type RoutedEndpoint } from '../../../netplugin/routed/policy-model';
import { nextGeneration } from '../../../netplugin/routed/policy-nft';
import { interpret, NEW, type RoutedPacket } from './policy-interpreter';

const RUNS = Number(process.env.NETLOOM_FUZZ_RUNS ?? 300);

/** Tenant a: 10.0.0.0/28 and 10.0.1.0/28; tenant b: 10.0.2.0/28; the world: 192.168.0.0/29. */
const TENANT_SUBNETS = [
  { tenant: 'a', subnet: '10.0.0.0/28' },
  { tenant: 'a', subnet: '10.0.1.0/28' },
  { tenant: 'b', subnet: '10.0.2.0/28' },
];
const ADDRESSES = [0, 1, 2].flatMap((n) => Array.from({ length: 16 }, (_, i) => `10.0.${n}.${i}`)).concat(['192.168.0.1', '192.168.0.6']);
const tenantOfAll = (ip: string) => (ip.startsWith('10.0.2.') ? 'b' : ip.startsWith('10.0.') ? 'a' : undefined);

const cidr = fc.oneof(
  fc.constantFrom(...ADDRESSES).map((a) => `${a}/32`),
  fc.tuple(fc.constantFrom(...ADDRESSES), fc.integer({ min: 0, max: 31 })).map(([a, len]) => {
    const n = a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    const base = len === 0 ? 0 : n - (n % 2 ** (32 - len));
    return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${len}`;
  }),
);
const addressSet: fc.Arbitrary<AddressSet> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<AddressSet>({ include: ['0.0.0.0/0'], exclude: [] }) },
  { weight: 1, arbitrary: fc.constant<AddressSet>({ include: [], exclude: [] }) },
  {
    weight: 5,
    arbitrary: fc.record({ include: fc.array(cidr, { minLength: 1, maxLength: 4 }), exclude: fc.array(cidr, { maxLength: 2 }) }),
  },
);
const protocol: fc.Arbitrary<Protocol> = fc.constantFrom<Protocol>('tcp', 'udp', 'icmp', 6, 17, 1, 47);
const range = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 4 })).map(([from, n]) => ({ from, to: from + n }));
const service: fc.Arbitrary<Service> = fc.oneof(
  fc.record({ protocol }),
  fc.record({ protocol: fc.constantFrom<Protocol>('tcp', 'udp', 6, 17), ports: fc.array(range, { maxLength: 3 }) }),
  fc.record({ ports: fc.array(range, { minLength: 1, maxLength: 2 }) }),
  fc.constant({}),
);
const rule = (id: number): fc.Arbitrary<PolicyRule> =>
  fc.record({
    id: fc.constant(`t:p/r${id}`),
    peers: addressSet,
    services: fc.array(service, { maxLength: 3 }),
    action: fc.constantFrom<'allow' | 'deny'>('allow', 'deny'),
    priority: fc.integer({ min: 1, max: 4 }),
  });

/**
 * A pool of rules (shared among endpoints, as compileContiv shares them), then each endpoint's picks;
 * `canDeny` false: allow rules only and no isolation (the stateless table).
 */
const scenario = (canDeny: boolean) =>
  fc
    .tuple(
      fc.array(
        fc.nat(20).chain((i) => (canDeny ? rule(i) : rule(i).map((r) => ({ ...r, action: 'allow' as const })))),
        { minLength: 0, maxLength: 8 },
      ),
      fc.uniqueArray(fc.constantFrom(...ADDRESSES.filter((a) => tenantOfAll(a))), { minLength: 1, maxLength: 5 }),
    )
    .chain(([pool, ips]) => {
      const direction: fc.Arbitrary<DirectionPolicy> = fc.record({
        isolated: canDeny ? fc.boolean() : fc.constant(false),
        rules:
          pool.length === 0
            ? fc.constant([])
            : fc.uniqueArray(fc.nat(pool.length - 1), { maxLength: 5 }).map((ix) => ix.map((i) => pool[i]!)),
      });
      const endpoints: fc.Arbitrary<RoutedEndpoint[]> = fc.tuple(...ips.map(() => fc.tuple(direction, direction))).map((dirs) =>
        ips.map((ip, i) => {
          const policy: EndpointPolicy = { endpoint: `e${i}`, ip, tenant: tenantOfAll(ip)!, ingress: dirs[i]![0], egress: dirs[i]![1] };
          return { hostIf: `nr${i}`, policy };
        }),
      );
      const packet = fc.record({
        src: fc.constantFrom(...ADDRESSES),
        dst: fc.constantFrom(...ADDRESSES),
        protocol,
        port: fc.integer({ min: 0, max: 18 }),
      });
      return fc.tuple(endpoints, fc.array(packet, { minLength: 40, maxLength: 40 }));
    });

describe('routed policy: the rendered model agrees with the reference semantics (property)', () => {
  for (const [canDeny, oneTenant] of [
    [true, false],
    [false, false],
    [false, true],
  ] as const)
    it(`random policies and packets, ${canDeny ? 'rules that may deny (stateful table)' : 'allow rules only (stateless table)'}${oneTenant ? ', one tenant' : ''} (${RUNS} runs)`, function () {
      this.timeout(60_000);
      fc.assert(
        fc.property(scenario(canDeny), ([endpoints, packets]) => {
          // one tenant: tenant b's subnet is not routed (its addresses are the world's) and its endpoints are gone
          const subnets = oneTenant ? TENANT_SUBNETS.filter((t) => t.tenant === 'a') : TENANT_SUBNETS;
          const eps = oneTenant ? endpoints.filter((e) => e.policy.tenant === 'a') : endpoints;
          const tenantOf = (ip: string) => (oneTenant && tenantOfAll(ip) === 'b' ? undefined : tenantOfAll(ip));
          const model = routedPolicyModel({ endpoints: eps, tenantSubnets: subnets });
          if (!canDeny) assert.equal(model.stateful, false);
          const g = nextGeneration(model, undefined);
          const old = { state: 'established' as const, reply: false, mark: (g.generation + 1) << 18 };
          const local = new Map(eps.map((e) => [e.policy.ip, e]));
          for (const p of packets) {
            const s = local.get(p.src);
            const d = local.get(p.dst);
            const portful = p.protocol === 'tcp' || p.protocol === 'udp' || p.protocol === 6 || p.protocol === 17;
            const pkt: RoutedPacket = {
              iif: s?.hostIf ?? 'eth0',
              oif: d?.hostIf ?? 'eth0',
              src: p.src,
              dst: p.dst,
              protocol: p.protocol,
              ...(portful ? { port: p.port } : {}),
            };
            const crosses =
              (s && tenantOf(p.dst) !== undefined && tenantOf(p.dst) !== s.policy.tenant) ||
              (d && tenantOf(p.src) !== undefined && tenantOf(p.src) !== d.policy.tenant);
            const want =
              !s && !d
                ? 'accept'
                : crosses
                  ? 'drop'
                  : passes(pkt, s?.policy.egress, d?.policy.ingress).verdict === 'allow'
                    ? 'accept'
                    : 'drop';
            const got = interpret(model, g, pkt, NEW).verdict;
            assert.equal(got, want, `${JSON.stringify(pkt)}`);
            assert.equal(interpret(model, g, pkt, old).verdict, want, `older generation: ${JSON.stringify(pkt)}`);
          }
        }),
        { numRuns: RUNS },
      );
    });
});
