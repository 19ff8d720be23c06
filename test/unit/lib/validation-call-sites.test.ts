/**
 * The places that report a failed zod check all go through lib/validation; these pin the wording
 * each one had before (CNM errors reach Docker, REST errors reach scripts, state-file errors reach
 * operators), so that sharing the helper changes no text a user sees.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetloomError } from '../../../lib/errors';
import { parseObject } from '../../../netmaster/model/keys';
import { EndpointStore } from '../../../netplugin/agent/endpoint-store';
import { joinRequest, parseRequest } from '../../../netplugin/cnm/protocol';
import { validateState } from '../../../netplugin/cnm/state';
import { parseHostState, parseLocalFacts } from '../../../netplugin/state/host-state';

function caught(fn: () => unknown): NetloomError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NetloomError, `not a NetloomError: ${String(e)}`);
    return e;
  }
  assert.fail('no error thrown');
}

function expectError(fn: () => unknown, code: string, message: string, field: string | undefined): NetloomError {
  const e = caught(fn);
  assert.deepEqual([e.code, e.message, e.field], [code, message, field]);
  return e;
}

describe('zod errors at their call sites keep their wording', () => {
  it('netmaster REST bodies: zod text alone, field = the path, every issue in details', () => {
    const e = expectError(() => parseObject('network', { tenantName: 't' }), 'INVALID_ARGUMENT', 'networkName is required', 'networkName');
    assert.deepEqual((e.details?.issues as { field: string }[])[0], { field: 'networkName', message: 'networkName is required' });
    expectError(() => parseObject('tenant', { tenantName: 5 }), 'INVALID_ARGUMENT', 'tenantName is required', 'tenantName');
  });

  it('CNM requests: "method: field: why", (body) for the whole value, malformed for the 400 reply', () => {
    const ok = { NetworkID: 'n', EndpointID: 'e', SandboxKey: 's', Options: {} };
    const missing = expectError(
      () => parseRequest('NetworkDriver.Join', joinRequest, { ...ok, SandboxKey: undefined }),
      'INVALID_ARGUMENT',
      'NetworkDriver.Join: SandboxKey: required field is missing',
      'SandboxKey',
    );
    assert.equal(missing.details?.malformed, true);
    expectError(
      () => parseRequest('NetworkDriver.Join', joinRequest, { ...ok, NetworkID: 5 }),
      'INVALID_ARGUMENT',
      'NetworkDriver.Join: NetworkID: Invalid input: expected string, received number',
      'NetworkID',
    );
    expectError(
      () => parseRequest('NetworkDriver.Join', joinRequest, 'x'),
      'INVALID_ARGUMENT',
      'NetworkDriver.Join: (body): Invalid input: expected object, received string',
      '(body)',
    );
  });

  it('CNM state file: DECODE_ERROR naming the file and the field', () => {
    const base = { version: 1, pools: {}, networks: {}, endpoints: {} };
    expectError(
      () => validateState({ ...base, pools: 5 }, '/x/state.json'),
      'DECODE_ERROR',
      '/x/state.json: not a valid CNM state file at "pools": Invalid input: expected record, received number',
      'pools',
    );
    expectError(
      () => validateState('x', '/x/state.json'),
      'DECODE_ERROR',
      '/x/state.json: not a valid CNM state file at "": Invalid input: expected object, received string',
      '',
    );
  });

  it('host state and local facts: "what: path: why", the whole value named by what', () => {
    expectError(
      () => parseHostState({ networks: 5 }),
      'INVALID_ARGUMENT',
      'host state: networks: Invalid input: expected array, received number',
      'networks',
    );
    expectError(() => parseHostState('x'), 'INVALID_ARGUMENT', 'host state: Invalid input: expected object, received string', 'host state');
    const facts = expectError(
      () => parseLocalFacts({ hostName: '', ports: { a: { ofport: 0, intfName: '' } } }),
      'INVALID_ARGUMENT',
      'local facts: hostName: hostName is required',
      'hostName',
    );
    assert.deepEqual(
      (facts.details?.issues as { field: string }[]).map((i) => i.field),
      ['hostName', 'ports.a.ofport', 'ports.a.intfName'],
    );
  });

  describe('agent endpoint state file', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nl-validation-unit-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('DECODE_ERROR "is damaged", pointing at the state-dir option', () => {
      const path = join(dir, 'endpoints.json');
      writeFileSync(path, JSON.stringify({ version: 1, endpoints: [{ endpointId: 'x' }] }));
      expectError(
        () => new EndpointStore(path),
        'DECODE_ERROR',
        `endpoint state file ${path} is damaged: Invalid input: expected string, received undefined`,
        'state-dir',
      );
    });
  });
});
