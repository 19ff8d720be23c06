/**
 * bin/netloom-cni carries the input limits of netplugin/cni/limits.ts as shell variables, and the
 * compiled plugin (netplugin/cni/netloom-cni.c) as #defines (both refuse before sending, so the
 * agent's limits are never the first to bite): they must agree, and the headers at their limits
 * must fit the agent server's header limit.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MAX_BODY_BYTES } from '../../../netplugin/cni/handler';
import { MAX_ENV_BYTES, MAX_HEADER_BYTES, MAX_NETCONF_BYTES } from '../../../netplugin/cni/limits';

const SHIM = readFileSync(resolve(__dirname, '../../../../bin/netloom-cni'), 'utf8');

const COMPILED = readFileSync(resolve(__dirname, '../../../../netplugin/cni/netloom-cni.c'), 'utf8');

function shimNumber(name: string): number {
  const m = new RegExp(`^${name}=(\\d+)$`, 'm').exec(SHIM);
  assert.ok(m, `bin/netloom-cni sets ${name}`);
  const c = new RegExp(`^#define ${name} (\\d+)$`, 'm').exec(COMPILED);
  assert.ok(c, `netloom-cni.c defines ${name}`);
  assert.equal(Number(c[1]), Number(m[1]), `${name}: the compiled plugin and the shim`);
  return Number(m[1]);
}

describe('CNI limits: shim, compiled plugin and agent agree', () => {
  it('netconf size', () => {
    assert.equal(shimNumber('MAX_NETCONF_BYTES'), MAX_NETCONF_BYTES);
    assert.equal(DEFAULT_MAX_BODY_BYTES, MAX_NETCONF_BYTES + 1, 'the agent allows the newline nc adds');
  });

  for (const [variable, max] of Object.entries(MAX_ENV_BYTES)) {
    it(variable, () => assert.equal(shimNumber(`MAX_${variable}`), max));
  }

  it('every CNI header at its limit fits the agent server', () => {
    const sum = Object.entries(MAX_ENV_BYTES).reduce((n, [k, v]) => n + k.length + 4 + v, 0);
    assert.ok(sum + 1024 < MAX_HEADER_BYTES, `${sum} bytes of CNI headers, limit ${MAX_HEADER_BYTES}`);
  });
});
