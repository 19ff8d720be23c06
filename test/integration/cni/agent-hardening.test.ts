/**
 * issue 13, the CNI shim against the REAL agent (lab `tcnh`: one host with OVS, netmaster, etcd):
 *  - 81 concurrent ADD/DEL calls on one container ID through `bin/netloom-cni` give spec outcomes
 *    (the agent serializes them per container ID): never an internal error (999), an ADD after an
 *    ADD is the duplicate-attachment error (100, issue 18), and the
 *    attachment ends as the last operation says (gone after a DEL, one port/endpoint after an ADD);
 *  - a fast-check fuzz of the shim (stdin mutations of a valid netconf, mutations of every CNI_*
 *    variable): every answer is CNI JSON (a result, or an error with a spec or documented plugin
 *    code, never 999), the exit code says which, no call hangs, and a failed ADD leaves no veth,
 *    OVS port or endpoint behind. NETLOOM_FUZZ_RUNS sets the number of runs (default 30).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import fc from 'fast-check';
import { run } from '../../../lib/exec';
import { labNetconf } from '../../../deploy/lab/cni-call';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { hostIfName } from '../../../netplugin/plumbing/veth';
import { runShim, type ShimOutcome } from '../../support/cni-shim';
import { BIN, labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'tcnh';
const NS = 'tcnh-ctr';
const NETNS = `/run/netns/${NS}`;
const DIR = `/tmp/nl-cni/agent-hardening-${process.pid}`;
const RUNS = Number(process.env.NETLOOM_FUZZ_RUNS ?? 30);
/** error codes the plugin may answer (spec 1-7, 11, 50, 51; netloom's 100-102 in docs/cni.md); 999 is a bug */
const CODES = new Set([1, 2, 3, 4, 5, 6, 7, 11, 50, 51, 100, 101, 102]);
const HANG_MS = 30_000;

function explain(r: ShimOutcome): string {
  return `exit ${r.code}${r.hung ? ' (HUNG)' : ''}, ${r.wallMs.toFixed(0)} ms: ${r.stdout.slice(0, 400)}${r.stderr.slice(0, 200)}`;
}

/** The checks every answer must pass: CNI JSON, exit code matching it, a known code, no hang. */
function assertCniAnswer(r: ShimOutcome, command: string | undefined): void {
  assert.ok(!r.hung, explain(r));
  if (r.code === 0) {
    if (r.stdout.trim() === '') assert.ok(command !== 'ADD' && command !== 'VERSION', `empty success for ${command}: ${explain(r)}`);
    else assert.equal(typeof r.json?.cniVersion, 'string', explain(r));
    assert.equal(r.json?.code, undefined, `an error result with exit 0: ${explain(r)}`);
    return;
  }
  assert.equal(r.code, 1, explain(r));
  assert.ok(r.json, `not JSON: ${explain(r)}`);
  assert.equal(typeof r.json.cniVersion, 'string', explain(r));
  assert.equal(typeof r.json.msg, 'string', explain(r));
  assert.ok(CODES.has(r.json.code as number), `code ${String(r.json.code)}: ${explain(r)}`);
}

describe('CNI shim against the real agent (lab)', function () {
  this.timeout(300_000);
  const plan = planLab({ name: LAB, hosts: 1, etcdMembers: 1, netmasters: 1 });
  const lab = labCli(LAB);
  const nm = plan.netmasters[0]!.url;
  const host = plan.hosts[0]!;
  const sock = agentPaths(plan, host.name).cniSocket;
  const netconf = (extra: Record<string, unknown> = {}) => labNetconf({ socket: sock, tenant: 'blue', network: 'vx', extra });
  const env = (over: Record<string, string | undefined> = {}) => ({
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c1',
    CNI_NETNS: NETNS,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/usr/lib/cni',
    ...over,
  });

  const ports = async (): Promise<string[]> =>
    (await lab(['exec', host.name, '--', 'ovs-vsctl', 'list-ports', 'br-int'])).stdout
      .split('\n')
      .filter((p) => /^nl[0-9a-f]{11}$/.test(p));
  const veths = async (): Promise<string[]> =>
    [...(await run('ip', ['-o', 'link', 'show'], { netns: host.netns })).stdout.matchAll(/^\d+: (nl[0-9a-f]{11})@/gm)].map(
      (m) => m[1] as string,
    );
  const endpoints = async (): Promise<number> =>
    (
      JSON.parse((await run(`${BIN}/netctl`, ['--netmaster', nm, 'endpoint', 'ls', '-o', 'json'])).stdout) as Array<{ homingHost?: string }>
    ).filter((e) => e.homingHost === host.name).length;
  const records = (): unknown[] =>
    (JSON.parse(readFileSync(`${agentPaths(plan, host.name).stateDir}/endpoints.json`, 'utf8')) as { endpoints: unknown[] }).endpoints;
  const assertNothingLeft = async (): Promise<void> => {
    assert.deepEqual(await ports(), [], 'OVS ports');
    assert.deepEqual(await veths(), [], 'veths');
    assert.equal(await endpoints(), 0, 'netmaster endpoints');
    assert.deepEqual(records(), [], 'agent records');
  };

  before(async function () {
    this.timeout(180_000);
    mkdirSync(DIR, { recursive: true });
    await run('mkfifo', [`${DIR}/fifo`]);
    await lab(['down'], true);
    await lab(['up', '--hosts', '1', '--etcd-members', '1', '--netmasters', '1']);
    const netctl = netctlCli(nm);
    await netctl(['tenant', 'create', 'blue']);
    await netctl(['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.81.3.0/24', '-g', '10.81.3.254', 'vx']);
    await addNetns(NS);
  });

  after(async function () {
    this.timeout(120_000);
    await delNetns(NS);
    await lab(['down'], true, 120_000);
    rmSync(DIR, { recursive: true, force: true });
  });

  it('81 concurrent ADD/DEL on one container ID: spec outcomes only, and the end state follows the last call', async () => {
    const commands = Array.from({ length: 81 }, (_, i) => (i % 3 === 1 ? 'DEL' : 'ADD'));
    const rs = await Promise.all(
      commands.map((c) => runShim(env({ CNI_COMMAND: c, CNI_CONTAINERID: 'conc1' }), JSON.stringify(netconf()))),
    );
    // serialized, every ADD finds nothing (success) or the complete attachment of an earlier ADD
    // (the spec's duplicate: code 100 naming it), every DEL is idempotent
    const duplicate = (c: string | undefined, r: ShimOutcome) =>
      c === 'ADD' && r.json?.code === 100 && /exists already/.test(String(r.json.msg));
    const bad = rs.map((r, i) => [commands[i], r] as const).filter(([c, r]) => r.code !== 0 && !duplicate(c, r));
    assert.deepEqual(
      bad.map(([c, r]) => `${c}: ${explain(r)}`),
      [],
    );
    rs.forEach((r, i) => assertCniAnswer(r, commands[i]));
    const del = await runShim(env({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'conc1' }), JSON.stringify(netconf()));
    assert.equal(del.code, 0, explain(del));
    await assertNothingLeft();
    const add = await runShim(env({ CNI_CONTAINERID: 'conc1' }), JSON.stringify(netconf()));
    assert.equal(add.code, 0, explain(add));
    assert.equal((await ports()).length, 1);
    assert.equal(await endpoints(), 1);
    assert.equal((await runShim(env({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'conc1' }), JSON.stringify(netconf()))).code, 0);
    await assertNothingLeft();
  });

  it('the netns cases of the issue against the real plumbing: FIFO and /etc/passwd -> code 4 at once, nothing left', async () => {
    for (const path of [`${DIR}/fifo`, '/etc/passwd']) {
      const r = await runShim(env({ CNI_NETNS: path }), JSON.stringify(netconf()));
      assert.equal(r.json?.code, 4, explain(r));
      assert.match(String(r.json?.msg), /CNI_NETNS/);
      assert.ok(r.wallMs < 5000, explain(r));
    }
    const mac = await runShim(env({ CNI_ARGS: 'MAC=00:00:00:00:00:00' }), JSON.stringify(netconf()));
    assert.equal(mac.json?.code, 4, explain(mac));
    await assertNothingLeft();
  });

  for (const compiled of [false, true])
    it(`fuzz (${compiled ? 'the compiled plugin' : 'the sh shim'}): ${RUNS} mutated invocations, every answer CNI JSON with a spec code, no hang, nothing leaked`, async () => {
      const valid = JSON.stringify(netconf());
      /** mostly `good`, sometimes `bad`: most runs then reach the backend with one thing wrong, or none */
      const mostly = <T>(good: fc.Arbitrary<T>, ...bad: Array<fc.Arbitrary<T>>): fc.Arbitrary<T> =>
        fc.oneof({ arbitrary: good, weight: 6 * bad.length }, ...bad.map((arbitrary) => ({ arbitrary, weight: 1 })));
      const mutateText = fc.oneof(
        { arbitrary: fc.constant(valid), weight: 4 },
        // one character replaced, inserted or removed somewhere
        fc
          .tuple(fc.nat(valid.length - 1), fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 1 }))
          .map(([at, s, del]) => valid.slice(0, at) + s + valid.slice(at + del)),
        fc.nat(valid.length).map((n) => valid.slice(0, n)),
        fc.string({ maxLength: 200 }).map((s) => valid + s),
        fc.string({ maxLength: 300 }),
        // the netconf's own keys with other values
        fc
          .record(
            {
              cniVersion: fc.constantFrom('0.3.1', '0.4.0', '1.0.0', '1.1.0', '2.0.0', '', '1.1.0.0'),
              name: fc.oneof(fc.constant('blue-vx'), fc.string({ maxLength: 20 })),
              tenant: fc.oneof(fc.constantFrom('blue', 'nosuch', ''), fc.string({ maxLength: 10 })),
              network: fc.oneof(fc.constantFrom('vx', 'nosuch'), fc.string({ maxLength: 10 })),
              mtu: fc.oneof(fc.integer({ min: -10, max: 70_000 }), fc.string({ maxLength: 5 })),
              runtimeConfig: fc.record(
                {
                  ips: fc.array(
                    fc.oneof(
                      fc.ipV4(),
                      fc.ipV6(),
                      fc.constantFrom('10.81.3.7/24', '10.81.3.0', '0.0.0.0', '10.99.0.1'),
                      fc.string({ maxLength: 8 }),
                    ),
                    { maxLength: 2 },
                  ),
                  mac: fc.oneof(
                    fc.constantFrom('02:00:00:00:00:42', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01'),
                    fc.string({ maxLength: 17 }),
                  ),
                  portMappings: fc.array(
                    fc.record({ hostPort: fc.integer({ min: -1, max: 70_000 }), containerPort: fc.integer({ min: 0, max: 70_000 }) }),
                    { maxLength: 2 },
                  ),
                },
                { requiredKeys: [] },
              ),
              dns: fc.oneof(fc.constant({ nameservers: ['10.81.3.53'] }), fc.jsonValue()),
              prevResult: fc.oneof(fc.constant({ cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }], ips: [] }), fc.jsonValue()),
              pad: fc.constantFrom('', 'x'.repeat(70_000), 'x'.repeat(1_100_000)),
            },
            { requiredKeys: [] },
          )
          .map((extra) => JSON.stringify(netconf(extra))),
      );
      const anyString = (max: number) => fc.string({ unit: 'binary', maxLength: max });
      const envArb = fc.record(
        {
          CNI_COMMAND: mostly(
            fc.constantFrom('ADD', 'ADD', 'ADD', 'DEL', 'CHECK', 'STATUS'),
            fc.constantFrom('GC', 'VERSION', 'add', ''),
            anyString(20),
          ),
          CNI_CONTAINERID: mostly(fc.constantFrom('fz1', 'fz2', 'a.b-c_d'), fc.constantFrom('-x', '', 'c'.repeat(2000)), anyString(40)),
          CNI_NETNS: mostly(
            fc.constant(NETNS),
            fc.constantFrom(`${DIR}/fifo`, '/etc/passwd', '/dev/null', DIR, `${DIR}/none`, 'relative', '/proc/self/ns/mnt'),
            anyString(30),
          ),
          CNI_IFNAME: mostly(fc.constantFrom('eth0', 'net1'), fc.constantFrom('abcdefghijklmnop', '..', 'a/b', ''), anyString(20)),
          CNI_ARGS: mostly(
            fc.constantFrom('', 'IgnoreUnknown=1;K8S_POD_NAME=p', 'MAC=02:00:00:00:00:07', 'IP=10.81.3.9'),
            fc.constantFrom('MAC=00:00:00:00:00:00', 'IP=224.0.0.1', 'NETLOOM_TENANT=nosuch', 'K=V;=x', `A=${'x'.repeat(20_000)}`),
            anyString(60),
          ),
          CNI_PATH: mostly(fc.constant('/usr/lib/cni'), anyString(30)),
        },
        { requiredKeys: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'] },
      );

      let served = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(envArb, mutateText, async (e, text) => {
          // environment values cannot hold NUL bytes
          const cleanEnv: Record<string, string | undefined> = {
            ...Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v?.replace(/\0/g, '')])),
            ...(compiled ? { NETLOOM_CNI_TRANSPORT: 'compiled' } : {}),
          };
          const r = await runShim(cleanEnv, text, HANG_MS);
          assertCniAnswer(r, cleanEnv.CNI_COMMAND);
          if (r.code === 0) served++;
          else refused++;
          let name: unknown;
          try {
            name = (JSON.parse(text) as { name?: unknown }).name;
          } catch {
            name = undefined;
          }
          if (cleanEnv.CNI_COMMAND !== 'ADD' || typeof name !== 'string') return;
          const key = `${name}/${cleanEnv.CNI_CONTAINERID ?? ''}/${cleanEnv.CNI_IFNAME ?? ''}`;
          if (r.code === 0) {
            // undo it with the same attachment key, as the runtime would
            const del = await runShim({ ...cleanEnv, CNI_COMMAND: 'DEL' }, text, HANG_MS);
            assert.equal(del.code, 0, `DEL after a served ADD: ${explain(del)}`);
          }
          // a failed ADD (or the DEL of a served one) leaves no host end of that attachment
          assert.ok(!(await veths()).includes(hostIfName(key)), `veth of ${key} left after ${explain(r)}`);
        }),
        { numRuns: RUNS },
      );
      console.log(`      fuzz: ${RUNS} runs, ${served} served, ${refused} refused`);
      await assertNothingLeft();
    });
});
