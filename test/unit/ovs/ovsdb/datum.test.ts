/** Unit tests of OVSDB datum conversions and operation builders. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { isNetloomError } from '../../../../lib/errors';
import {
  atomValue,
  emptySet,
  isDatum,
  mapToMap,
  mapToRecord,
  namedUuid,
  optionalValue,
  ovsMap,
  ovsSet,
  setValues,
  toDatum,
  toRow,
  uuid,
  uuidValue,
} from '../../../../ovs/ovsdb/datum';
import {
  abort,
  byUuid,
  comment,
  commit,
  del,
  eq,
  insert,
  mutate,
  mutation,
  select,
  update,
  wait,
  assertLock,
} from '../../../../ovs/ovsdb/operations';

const U = '0f4c4e2a-1d1b-4d8e-9a46-2f0e5b7c9d11';

describe('ovsdb datum', () => {
  it('builds uuid and named-uuid atoms and refuses malformed ones', () => {
    assert.deepEqual(uuid(U), ['uuid', U]);
    assert.deepEqual(namedUuid('row_1'), ['named-uuid', 'row_1']);
    assert.throws(
      () => uuid('not-a-uuid'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'uuid',
    );
    assert.throws(
      () => namedUuid('1abc'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('converts plain JS to wire datums', () => {
    assert.equal(toDatum('a'), 'a');
    assert.equal(toDatum(5), 5);
    assert.equal(toDatum(false), false);
    assert.deepEqual(toDatum(['OpenFlow13', 'OpenFlow10']), ['set', ['OpenFlow13', 'OpenFlow10']]);
    assert.deepEqual(toDatum(new Set([1, 2])), ['set', [1, 2]]);
    assert.deepEqual(toDatum({ 'max-rate': '100' }), ['map', [['max-rate', '100']]]);
    assert.deepEqual(toDatum(new Map([[0, uuid(U)]])), ['map', [[0, ['uuid', U]]]]);
    assert.deepEqual(toDatum(undefined), ['set', []]);
    assert.deepEqual(toDatum(null), emptySet());
    // a uuid atom stays an atom, and so does a named-uuid
    assert.deepEqual(toDatum(['uuid', U]), ['uuid', U]);
    assert.deepEqual(toDatum([namedUuid('x')]), ['set', [['named-uuid', 'x']]]);
    assert.deepEqual(toRow({ name: 'br0', ports: [], other_config: {} }), { name: 'br0', ports: ['set', []], other_config: ['map', []] });
  });

  it('refuses values that are not OVSDB data, naming the field', () => {
    assert.throws(
      () => toDatum([{ a: 1 }] as never, 'trunks'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'trunks[0]',
    );
    assert.throws(
      () => toDatum({ a: [1] } as never),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
    assert.throws(
      () => toDatum(Number.NaN),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
    assert.throws(
      () => ovsSet([{} as never]),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('reads wire datums back as plain JS, a bare atom being a one-element set', () => {
    assert.deepEqual(setValues(['set', [1, 2]]), [1, 2]);
    assert.deepEqual(setValues('OpenFlow13'), ['OpenFlow13']);
    assert.deepEqual(setValues(['uuid', U]), [U]);
    assert.deepEqual(setValues(undefined), []);
    assert.equal(optionalValue(['set', []]), undefined);
    assert.equal(optionalValue(7), 7);
    assert.throws(
      () => optionalValue(['set', [1, 2]]),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
    assert.deepEqual(
      mapToRecord([
        'map',
        [
          ['a', 'b'],
          ['c', 'd'],
        ],
      ]),
      { a: 'b', c: 'd' },
    );
    assert.deepEqual(mapToRecord(['set', []]), {});
    assert.deepEqual([...mapToMap(['map', [[1, ['uuid', U]]]])], [[1, U]]);
    assert.throws(
      () => mapToRecord('x'),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
    assert.equal(uuidValue(['uuid', U]), U);
    assert.throws(
      () => uuidValue('x'),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
    assert.equal(atomValue(['named-uuid', 'n']), 'n');
  });

  it('round-trips string maps and sets of atoms (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (rec) => {
        const d = ovsMap(rec);
        assert.ok(isDatum(JSON.parse(JSON.stringify(d))));
        assert.deepEqual(mapToRecord(JSON.parse(JSON.stringify(d))), { ...rec });
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.integer(), fc.boolean())), (items) => {
        assert.deepEqual(setValues(JSON.parse(JSON.stringify(ovsSet(items)))), items);
      }),
    );
  });
});

describe('ovsdb operations', () => {
  it('build the exact RFC 7047 JSON for every operation', () => {
    assert.deepEqual(
      JSON.parse(
        JSON.stringify([
          insert('Bridge', { name: 'br0', ports: [namedUuid('p')] }, 'br'),
          select('Bridge', [eq('name', 'br0')], ['_uuid']),
          update('Bridge', [byUuid(U)], { fail_mode: 'secure' }),
          mutate('Open_vSwitch', [], [mutation('bridges', 'insert', [namedUuid('br')]), mutation('next_cfg', '+=', 1)]),
          del('Queue', [byUuid(U)]),
          wait('Port', [eq('name', 'p1')], ['name'], '==', [], 0),
          commit(true),
          abort(),
          comment('hello'),
          assertLock('lk'),
        ]),
      ),
      [
        { op: 'insert', table: 'Bridge', row: { name: 'br0', ports: ['set', [['named-uuid', 'p']]] }, 'uuid-name': 'br' },
        { op: 'select', table: 'Bridge', where: [['name', '==', 'br0']], columns: ['_uuid'] },
        { op: 'update', table: 'Bridge', where: [['_uuid', '==', ['uuid', U]]], row: { fail_mode: 'secure' } },
        {
          op: 'mutate',
          table: 'Open_vSwitch',
          where: [],
          mutations: [
            ['bridges', 'insert', ['set', [['named-uuid', 'br']]]],
            ['next_cfg', '+=', 1],
          ],
        },
        { op: 'delete', table: 'Queue', where: [['_uuid', '==', ['uuid', U]]] },
        { op: 'wait', table: 'Port', where: [['name', '==', 'p1']], columns: ['name'], until: '==', rows: [], timeout: 0 },
        { op: 'commit', durable: true },
        { op: 'abort' },
        { op: 'comment', comment: 'hello' },
        { op: 'assert', lock: 'lk' },
      ],
    );
  });

  it('refuses bad arguments with the field named', () => {
    assert.throws(
      () => insert('', {}),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'table',
    );
    assert.throws(
      () => insert('Bridge', {}, 'bad name'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'uuid-name',
    );
    assert.throws(
      () => mutate('Bridge', [], []),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'mutations',
    );
    assert.throws(
      () => wait('Bridge', [], [], '==', [], -1),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'timeout',
    );
  });
});
