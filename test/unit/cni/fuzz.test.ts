/**
 * Property tests for the CNI handler: whatever environment and body arrive, the answer is a
 * well-formed CNI outcome (never an internal error from parsing), and a refused request never
 * reached the backend.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { serveCni } from '../../../netplugin/cni/handler';
import type { CniEnv } from '../../../netplugin/cni/parse';
import { FakeBackend } from './fake-backend';

const KNOWN_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 11, 50, 51, 100, 101, 102]);

const envArb: fc.Arbitrary<CniEnv> = fc.record(
  {
    command: fc.oneof(fc.constantFrom('ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'), fc.string()),
    containerId: fc.oneof(fc.constantFrom('ctr1', 'a.b-c_d'), fc.string()),
    netns: fc.oneof(fc.constant('/run/netns/cnix'), fc.string()),
    ifName: fc.oneof(fc.constant('eth0'), fc.string()),
    args: fc.oneof(fc.constantFrom('IgnoreUnknown=1;K8S_POD_NAME=p', 'IP=10.0.0.1;MAC=02:00:00:00:00:01'), fc.string()),
  },
  { requiredKeys: [] },
);

const confValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(['10.0.0.1/24'], { ips: ['1.2.3.4'] }, { interfaces: [], ips: [{ address: '10.0.0.1/24' }] }),
);
const bodyArb = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        cniVersion: fc.oneof(fc.constantFrom('0.3.1', '0.4.0', '1.0.0', '1.1.0'), fc.string()),
        name: fc.oneof(fc.constant('nlnet'), fc.string()),
        type: fc.constant('netloom-cni'),
        tenant: confValue,
        mtu: confValue,
        dns: confValue,
        runtimeConfig: fc.oneof(fc.record({ ips: confValue, mac: confValue, portMappings: confValue }, { requiredKeys: [] }), confValue),
        args: fc.oneof(fc.record({ cni: fc.record({ ips: confValue, labels: confValue }, { requiredKeys: [] }) }), confValue),
        prevResult: confValue,
        'cni.dev/valid-attachments': confValue,
      },
      { requiredKeys: ['cniVersion', 'name'] },
    )
    .map((o) => JSON.stringify(o)),
);

describe('cni handler properties', () => {
  it('answers every input with a well-formed outcome; refusals never reach the backend', async () => {
    await fc.assert(
      fc.asyncProperty(envArb, bodyArb, async (env, body) => {
        const be = new FakeBackend();
        const out = await serveCni(env, body, be, { probeNetns: async () => {} });
        if (out.status === 200) {
          if (out.body !== '') assert.equal(typeof JSON.parse(out.body), 'object');
          return;
        }
        const err = JSON.parse(out.body) as { cniVersion: unknown; code: unknown; msg: unknown };
        assert.equal(typeof err.cniVersion, 'string');
        assert.equal(typeof err.msg, 'string');
        assert.ok(KNOWN_CODES.has(err.code as number), `unexpected code ${String(err.code)}: ${out.body}`);
        assert.deepEqual(be.calls, [], 'a refused request reached the backend');
      }),
      { numRuns: Number(process.env.NETLOOM_FUZZ_RUNS ?? 3000) },
    );
  });
});
