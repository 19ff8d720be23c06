import { strict as assert } from 'node:assert';
import { NetloomError } from '../../../lib/errors';
import {
  DEFAULT_REGISTRATIONS,
  median,
  parseRegistrationsArgs,
  shares,
  subnetPrefixFor,
  summarizeRegistrations,
  type RegistrationRound,
} from '../../../bench/support/registrations-report';

const round = (reg: number, create: number, batches: number[], creates: number[] = [1, 2]): RegistrationRound => ({
  registrationsPerSec: reg,
  batchLatenciesMs: batches,
  claims: 17,
  createsPerSec: create,
  createLatenciesMs: creates,
});

describe('netmaster benchmark: registrations phase pieces', () => {
  it('takes its flags among the others and keeps the defaults for the rest', () => {
    assert.deepEqual(parseRegistrationsArgs(['--objects', '5', '--rounds', '1']), DEFAULT_REGISTRATIONS);
    assert.deepEqual(
      parseRegistrationsArgs([
        '--registrations',
        '30',
        '--registration-batch',
        '7',
        '--registration-in-flight',
        '2',
        '--registration-rounds',
        '1',
      ]),
      { ...DEFAULT_REGISTRATIONS, count: 30, batch: 7, inFlight: 2, rounds: 1 },
    );
    assert.equal(parseRegistrationsArgs(['--create-in-flight', '3']).createInFlight, 3);
    assert.equal(parseRegistrationsArgs(['--registrations', '0']).count, 0);
  });

  it('refuses a bad value naming its flag', () => {
    for (const [flag, value] of [
      ['--registrations', '-1'],
      ['--registrations', 'many'],
      ['--registration-batch', '0'],
      ['--registration-batch', '2.5'],
      ['--registration-in-flight', '65'],
      ['--registration-rounds', undefined],
    ] as const) {
      assert.throws(
        () => parseRegistrationsArgs(value === undefined ? [flag] : [flag, value]),
        (e: unknown) => e instanceof NetloomError && e.code === 'INVALID_ARGUMENT' && e.field === flag,
        `${flag} ${String(value)}`,
      );
    }
  });

  it('shares the endpoints among the agents, the remainder to the first ones', () => {
    assert.deepEqual(shares(3000, 3), [1000, 1000, 1000]);
    assert.deepEqual(shares(10, 3), [4, 3, 3]);
    assert.deepEqual(shares(2, 3), [1, 1, 0]);
  });

  it('sizes a subnet that holds the endpoints in blocks with room to spare, never a single block', () => {
    assert.equal(subnetPrefixFor(3000, 3), 19);
    assert.equal(subnetPrefixFor(30, 3), 23);
    assert.equal(subnetPrefixFor(1, 3), 23);
    for (const n of [1, 61, 62, 1000, 3000, 50_000]) {
      const size = 2 ** (32 - subnetPrefixFor(n, 3));
      // every agent's last block partly empty, 3 reserved addresses in a block at most
      assert.ok(size >= (Math.ceil(n / 61) + 3) * 64, `${n}: /${subnetPrefixFor(n, 3)}`);
    }
    assert.ok(subnetPrefixFor(1, 3, 28) <= 24);
    assert.throws(
      () => subnetPrefixFor(20_000_000, 3),
      (e: unknown) => e instanceof NetloomError && e.field === '--registrations',
    );
  });

  it('medians average the two middle values of an even count', () => {
    assert.equal(median([]), 0);
    assert.equal(median([5]), 5);
    assert.equal(median([1, 9]), 5);
    assert.equal(median([7, 1, 3]), 3);
  });

  it('reports medians over rounds, the ratio of each round, latency percentiles over every call', () => {
    const cfg = { ...DEFAULT_REGISTRATIONS, rounds: 2 };
    const f = summarizeRegistrations(cfg, [round(1000, 250, [10, 20, 30]), round(1200, 200, [40])]);
    assert.equal(f.registrationsPerSec, 1100);
    assert.equal(f.createsPerSec, 225);
    assert.deepEqual(f.registrationsVsCreateByRound, [4, 6]);
    assert.equal(f.registrationsVsCreate, 5);
    assert.deepEqual(f.batchLatencyMs, { p50: 30, p99: 40 });
    assert.deepEqual(f.createLatencyMs, { p50: 2, p99: 2 });
    assert.equal(f.claimsPerRound, 17);
    assert.equal(f.agents, 3);
  });
});
