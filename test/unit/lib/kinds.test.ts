/**
 * The kind descriptors are consistent: unique types and collections, and every field a
 * descriptor names (key, references, links, netctl's name and columns) is a field of its schema.
 * Loading them does not load zod (netctl imports them and never validates).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { ALL_KINDS, KINDS, KIND_NAMES } from '../../../lib/kinds';
import { fieldsOf } from '../../../lib/kinds/fields';

describe('lib/kinds: the kind descriptors', () => {
  it('lists each kind under its own type name, with unique collections', () => {
    for (const n of KIND_NAMES) assert.equal(KINDS[n].type, n);
    assert.equal(new Set(ALL_KINDS.map((k) => k.collection)).size, ALL_KINDS.length);
  });

  for (const k of ALL_KINDS) {
    it(`${k.type}: every field it names is in its schema`, () => {
      const shape = Object.keys(k.schema(z, fieldsOf(z)).shape);
      const named = [
        ...k.key,
        ...k.references.map((r) => r.field),
        ...Object.values(k.links ?? {}).flatMap((l) => (l ? l.field.split('|') : [])),
        k.netctl.nameField,
        ...(k.netctl.columns ?? []).map((c) => c.field),
      ];
      for (const f of named) assert.ok(shape.includes(f), `${k.type} names ${f}, not in its schema`);
      if (k.scope === 'tenant') assert.equal(k.key[0], 'tenantName');
    });
  }

  it('loads without zod', () => {
    const index = join(__dirname, '..', '..', '..', 'lib', 'kinds', 'index.js');
    const out = execFileSync(process.execPath, [
      '-e',
      `require(${JSON.stringify(index)}); console.log(Object.keys(require.cache).some((f) => f.includes('/node_modules/zod/')))`,
    ]);
    assert.equal(out.toString().trim(), 'false');
  });
});
