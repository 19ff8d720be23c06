/**
 * The pure parts of netmaster's address-block service (issue 15): the effective block prefix,
 * ranges without block spans and the guards around an address, the consistency check's verdict
 * on block keys, the read-free checks of a registration, and the ClaimBlock/ReleaseBlock argument
 * checks.
 */
import assert from 'node:assert/strict';
import { endpointId } from '../../../lib/endpoint-id';
import { isNetloomError } from '../../../lib/errors';
import { blockOfCidr, checkNetworkKey } from '../../../netmaster/agent/block-rpc';
import { parseV4 } from '../../../netmaster/model/net';
import { noBlockAround, withoutSpans } from '../../../netmaster/service/block-guards';
import { blockKeys, encodeBlockValue } from '../../../netmaster/service/block-keys';
import { effectiveBlockPrefix } from '../../../netmaster/service/block-prefix';
import { blockLeak } from '../../../netmaster/service/consistency';
import { checkRegistration } from '../../../netmaster/service/endpoint-sync';

const ip = (s: string) => parseV4(s)!;

describe('netmaster address blocks: pure parts', () => {
  it('effective block prefix: the network, else the global, else 26; 0 when the subnet is not larger than a block', () => {
    assert.equal(effectiveBlockPrefix({ subnet: '10.0.0.0/16' }, undefined), 26);
    assert.equal(effectiveBlockPrefix({ subnet: '10.0.0.0/16' }, { blockPrefix: 24 }), 24);
    assert.equal(effectiveBlockPrefix({ subnet: '10.0.0.0/16', blockPrefix: 28 }, { blockPrefix: 24 }), 28);
    assert.equal(effectiveBlockPrefix({ subnet: '10.0.0.0/16', blockPrefix: 0 }, { blockPrefix: 24 }), 24);
    assert.equal(effectiveBlockPrefix({ subnet: '10.0.0.0/26' }, undefined), 0, 'a subnet of one block is served whole');
    assert.equal(effectiveBlockPrefix({ subnet: '10.0.0.0/28' }, undefined), 0);
    assert.equal(effectiveBlockPrefix({ subnet: '10.0.0.0/25' }, undefined), 26);
  });

  it('ranges without block spans; guards name every aligned enclosing block key from the subnet prefix to 32', () => {
    assert.deepEqual(
      withoutSpans(
        [[10, 100]],
        [
          [20, 29],
          [0, 12],
          [90, 200],
        ],
      ),
      [
        [13, 19],
        [30, 89],
      ],
    );
    assert.deepEqual(withoutSpans([[10, 20]], [[0, 30]]), []);
    const g = noBlockAround('t:n', ip('10.1.0.77'), 24);
    assert.equal(g.length, 9);
    assert.ok(g.every((x) => x.kind === 'modEquals' && x.modRevision === '0'));
    assert.ok(g.some((x) => x.kind === 'modEquals' && x.key === blockKeys.key('t:n', { base: ip('10.1.0.64'), prefix: 26 })));
    assert.ok(g.some((x) => x.kind === 'modEquals' && x.key === blockKeys.key('t:n', { base: ip('10.1.0.0'), prefix: 24 })));
  });

  it('consistency: a block of a missing network, an unreadable one, or of an unknown host past the grace is leaked', () => {
    const b = { base: ip('10.1.0.0'), prefix: 26 };
    const key = blockKeys.key('t:n', b);
    const value = encodeBlockValue('hostA', b, new Date(1_000_000));
    const nets = new Set(['t:n']);
    const w = { networks: [], groups: [], endpoints: [], actual: new Map(), hosts: new Set(['hostA']), nowMs: 1_000_000 + 120_000 };
    assert.equal(blockLeak(w, nets, key, value), undefined);
    assert.match(blockLeak(w, new Set(), key, value) ?? '', /missing network t:n/);
    assert.match(blockLeak(w, nets, key, '{}') ?? '', /not a block record/);
    const unknown = { ...w, hosts: new Set<string>() };
    assert.match(blockLeak(unknown, nets, key, value) ?? '', /host hostA, unknown/);
    assert.equal(blockLeak({ ...unknown, graceMs: 600_000 }, nets, key, value), undefined, 'still within the grace');
  });

  it('registration checks: id must be the endpoint id of (network, key); mac, ip, key required; fields named', () => {
    const good = {
      id: endpointId('t:n', 'k1'),
      idempotencyKey: 'k1',
      tenant: 't',
      network: 'n',
      group: '',
      containerId: 'c',
      containerName: '',
      intfName: '',
      ip: '10.1.0.5',
      mac: '02:00:00:00:00:05',
      labels: {},
      pod: null,
    };
    const ok = checkRegistration(good, 'h');
    assert.ok(!('outcome' in ok) && ok.netKey === 't:n' && ok.ip === ip('10.1.0.5'));
    const bad = (patch: Partial<typeof good>, re: RegExp) => {
      const r = checkRegistration({ ...good, ...patch }, 'h');
      assert.ok('outcome' in r && r.outcome === 'INVALID', JSON.stringify(patch));
      assert.match(r.message, re);
    };
    bad({ id: 'x' }, /id must be/);
    bad({ mac: '' }, /mac is required/);
    bad({ mac: '01:00:00:00:00:01' }, /macAddress/);
    bad({ ip: '10.1.0' }, /not an IPv4 address/);
    bad({ idempotencyKey: '', id: endpointId('t:n', '') }, /idempotency_key/);
    bad({ network: 'bad name!' }, /networkName/);
  });

  it('ClaimBlock/ReleaseBlock arguments: a network key and an aligned CIDR, else INVALID_ARGUMENT naming the field', () => {
    assert.deepEqual(blockOfCidr('10.1.0.64/26'), { base: ip('10.1.0.64'), prefix: 26 });
    for (const c of ['10.1.0.65/26', '10.1.0.64', 'x/26', '10.1.0.0/33'])
      assert.throws(
        () => blockOfCidr(c),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'cidr',
        c,
      );
    checkNetworkKey('t:n');
    for (const n of ['', 'n', 't:n:x', 't/n:x'])
      assert.throws(
        () => checkNetworkKey(n),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'network',
        n,
      );
  });
});
