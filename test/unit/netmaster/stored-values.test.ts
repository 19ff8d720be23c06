/**
 * What netmaster accepts when it reads a value back from etcd (stored-values.ts), how skipped
 * values are reported (bad-values.ts: logged once per key, the netmaster_invalid_stored_objects
 * gauge, cleared when put right), which leaked allocations the consistency check must keep
 * (scan-stored.ts belongsToBad), and agent messages that leave out an item too large for any
 * message (message-parts.ts).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createLogger } from '../../../lib/logger';
import { isNetloomError } from '../../../lib/errors';
import { changeBatches, snapshotParts, type Oversized } from '../../../netmaster/agent/message-parts';
import type { HostState } from '../../../netmaster/agent/host-view';
import { BadValues, registerBadValuesMetric } from '../../../netmaster/store/bad-values';
import { layout } from '../../../netmaster/store/layout';
import { belongsToBad } from '../../../netmaster/store/scan-stored';
import {
  BadStoredValue,
  checkEndpoint,
  checkIntent,
  checkIntentKv,
  MAX_STORED_VALUE_BYTES,
  problemOf,
} from '../../../netmaster/store/stored-values';

const network = {
  tenantName: 't1',
  networkName: 'n1',
  nwType: 'data',
  encap: 'vlan',
  pktTag: 10,
  subnet: '10.1.1.0/24',
  gateway: '',
  ipv6Subnet: '',
  ipv6Gateway: '',
  cfgdTag: '',
};
const stored = (config: unknown, oper: unknown = {}) => JSON.stringify({ config, oper });
const endpoint = {
  endpointID: 'e1',
  tenantName: 't1',
  networkName: 'n1',
  network: 't1:n1',
  ipAddress: '10.1.1.2',
  macAddress: '02:00:00:00:00:02',
};

function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof BadStoredValue, `a BadStoredValue, got ${String(e)}`);
    return e.reason;
  }
  return assert.fail('expected a BadStoredValue');
}

describe('netmaster stored values', () => {
  describe('checks on read', () => {
    it('accepts a stored object as netmaster writes it, and serves it as stored', () => {
      const s = checkIntent('network', 't1:n1', stored(network, { x: 1 }));
      assert.deepEqual(s, { config: network, oper: { x: 1 } });
      assert.deepEqual(checkEndpoint('e1', JSON.stringify(endpoint)), endpoint);
    });

    it('refuses, naming why: too big, not JSON, not {config, oper}, fails the schema, under another key', () => {
      assert.match(
        reasonOf(() => checkIntent('network', 't1:n1', ' '.repeat(MAX_STORED_VALUE_BYTES + 1))),
        /over the \d+-byte limit/,
      );
      assert.match(
        reasonOf(() => checkIntent('network', 't1:n1', '{"config":')),
        /^not JSON/,
      );
      assert.match(
        reasonOf(() => checkIntent('network', 't1:n1', '[1]')),
        /not an object \{config, oper\}/,
      );
      assert.match(
        reasonOf(() => checkIntent('network', 't1:n1', stored(network, 'x'))),
        /oper is not an object/,
      );
      assert.match(
        reasonOf(() => checkIntent('network', 't1:n1', stored({ ...network, pktTag: 'ten' }))),
        /fails the schema: pktTag/,
      );
      assert.match(
        reasonOf(() => checkIntent('network', 't1:other', stored(network))),
        /make the key 't1:n1'/,
      );
      assert.match(
        reasonOf(() => checkEndpoint('e1', JSON.stringify({ ...endpoint, macAddress: 5 }))),
        /fails the schema: macAddress/,
      );
      assert.match(
        reasonOf(() => checkEndpoint('e2', JSON.stringify(endpoint))),
        /endpointID is 'e1', not 'e2'/,
      );
    });

    it("a network's tag record: the allocated tag in oper.pktTag, the given one in config (either or both alike), never neither", () => {
      const auto = { ...network, pktTag: 0 };
      assert.deepEqual(checkIntent('network', 't1:n1', stored(auto, { pktTag: 300 })).oper, { pktTag: 300 });
      assert.ok(checkIntent('network', 't1:n1', stored(network, { pktTag: 10 })), 'given: both say 10');
      assert.ok(checkIntent('network', 't1:n1', stored(network)), 'stored before the oper record: the config tag is the one in use');
      assert.match(
        reasonOf(() => checkIntent('network', 't1:n1', stored(auto))),
        /no packet tag/,
      );
      assert.match(
        reasonOf(() => checkIntent('network', 't1:n1', stored(network, { pktTag: 11 }))),
        /config.pktTag 10 differs .* oper.pktTag 11/,
      );
      for (const bad of [0, -1, 1.5, '10', 16777216])
        assert.match(
          reasonOf(() => checkIntent('network', 't1:n1', stored(auto, { pktTag: bad }))),
          /oper.pktTag: must be a tag/,
        );
    });

    it('a value too large to receive is bad whatever it is', () => {
      assert.match(
        reasonOf(() => checkIntentKv({ key: layout.cfg('network', 't1:n1'), value: '', tooLarge: true })),
        /receive limit/,
      );
    });

    it('problemOf judges any intent or endpoint key, and leaves other keys alone', () => {
      assert.equal(problemOf(layout.cfg('network', 't1:n1'), stored(network)), undefined);
      assert.equal(problemOf(layout.cfg('network', 't1:n1'), 'nope')?.kind, 'network');
      assert.equal(problemOf(`${layout.cfgRoot()}nosuchtype/x`, '{}')?.kind, 'other');
      assert.equal(problemOf(layout.ep('e1'), 'nope')?.kind, 'endpoint');
      assert.equal(problemOf(layout.tag('vlan', 10), 'anything'), undefined);
    });
  });

  describe('the list of bad values', () => {
    function logged(): { bad: BadValues; lines: Array<Record<string, unknown>> } {
      const lines: Array<Record<string, unknown>> = [];
      const dest = new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          cb();
        },
      });
      return { bad: new BadValues(createLogger('t', { level: 'info', destination: dest })), lines };
    }

    it('logs a key once with its reason (again when the reason changes), and once when it is put right', async () => {
      const { bad, lines } = logged();
      const key = layout.cfg('network', 't1:n1');
      bad.report(key, 'network', 'not JSON');
      bad.report(key, 'network', 'not JSON');
      bad.report(key, 'network', 'fails the schema');
      assert.equal(bad.reports, 3);
      const warnings = lines.filter((l) => l.key === key && l.reason !== undefined);
      assert.deepEqual(
        warnings.map((l) => l.reason),
        ['not JSON', 'fails the schema'],
      );
      bad.clear(key);
      bad.clear(key);
      assert.equal(lines.filter((l) => l.key === key && l.reason === undefined).length, 1);
      assert.equal(bad.has(key), false);
    });

    it('take: a good read clears the key, a bad one is reported and skipped; need: a bad one is DECODE_ERROR naming the key', () => {
      const bad = new BadValues();
      const key = layout.cfg('network', 't1:n1');
      assert.equal(
        bad.take(key, () => checkIntent('network', 't1:n1', 'x')),
        undefined,
      );
      assert.equal(bad.has(key), true);
      assert.throws(
        () => bad.need(key, () => checkIntent('network', 't1:n1', 'x')),
        (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && e.message.includes(key) && (e.details as { key: string }).key === key,
      );
      assert.deepEqual(
        bad.take(key, () => checkIntent('network', 't1:n1', stored(network))),
        { config: network, oper: {} },
      );
      assert.equal(bad.has(key), false);
      assert.throws(() => bad.take(key, () => assert.fail('other errors go through')));
    });

    it('netmaster_invalid_stored_objects counts the keys bad now, by type', async () => {
      const bad = new BadValues();
      const registry = new Registry();
      registerBadValuesMetric(registry, bad);
      bad.report(layout.cfg('network', 't1:a'), 'network', 'x');
      bad.report(layout.cfg('network', 't1:b'), 'network', 'x');
      bad.report(layout.ep('e1'), 'endpoint', 'x');
      let text = await registry.metrics();
      assert.match(text, /netmaster_invalid_stored_objects\{type="network"\} 2/);
      assert.match(text, /netmaster_invalid_stored_objects\{type="endpoint"\} 1/);
      bad.clear(layout.ep('e1'));
      text = await registry.metrics();
      assert.doesNotMatch(text, /type="endpoint"/, 'a series goes when its last key is put right');
    });
  });

  it('the consistency check keeps what may belong to a bad object: its tag, addresses, indexes and endpoints', () => {
    const bad = [
      { key: layout.cfg('network', 't1:n1'), kind: 'network' as const, reason: 'x' },
      { key: layout.ep('e9'), kind: 'endpoint' as const, reason: 'x' },
    ];
    assert.equal(belongsToBad({ key: layout.tag('vlan', 10), value: 't1:n1' }, bad), true);
    assert.equal(belongsToBad({ key: layout.ip('t1:n1', 5), value: 'gateway' }, bad), true);
    assert.equal(belongsToBad({ key: layout.epByNet('t1:n1', 'e1'), value: '' }, bad), true);
    assert.equal(belongsToBad({ key: layout.ep('e1'), value: 't1:n1' }, bad), true, 'an endpoint of the bad network');
    assert.equal(belongsToBad({ key: layout.mac('02:00:00:00:00:09'), value: 'e9' }, bad), true, "the bad endpoint's MAC");
    assert.equal(belongsToBad({ key: layout.tag('vlan', 11), value: 't1:n2' }, bad), false);
    assert.equal(belongsToBad({ key: layout.ip('t1:n10', 5), value: 'e1' }, bad), false, 'a network whose name starts alike');
  });

  describe('agent messages', () => {
    const empty = (): HostState => ({
      global: null,
      tenants: [],
      networks: [],
      groups: [],
      policies: [],
      profiles: [],
      endpoints: [],
      vteps: [],
      bgp: null,
      services: [],
      blocks: [],
      kubePolicies: [],
      kubeNamespaces: [],
    });

    it('a snapshot leaves out an item too large for any part, and names it', () => {
      const state = empty();
      state.networks.push({ key: 'small1' } as never, { key: 'huge', cfgdTag: 'x'.repeat(5000) } as never, { key: 'small2' } as never);
      const left: Oversized[] = [];
      const parts = snapshotParts(state, 1000, (o) => left.push(o));
      assert.deepEqual(
        parts.flatMap((p) => p.networks.map((n) => (n as unknown as { key: string }).key)),
        ['small1', 'small2'],
      );
      assert.deepEqual(
        left.map((o) => [o.kind, o.id]),
        [['networks', 'huge']],
      );
    });

    it('a batch of changes leaves out a change too large for any message, and keeps the order of the rest', () => {
      const changes = [
        { key: 'network/a', network: { key: 'a' } },
        { key: 'network/b', network: { key: 'b', cfgdTag: 'x'.repeat(5000) } },
        { key: 'network/c', network: { key: 'c' } },
      ] as never[];
      const left: Oversized[] = [];
      const batches = changeBatches(changes, 1000, (o) => left.push(o));
      assert.deepEqual(
        batches.flat().map((c) => (c as { key: string }).key),
        ['network/a', 'network/c'],
      );
      assert.deepEqual(
        left.map((o) => o.id),
        ['network/b'],
      );
    });
  });
});
