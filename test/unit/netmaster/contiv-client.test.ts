/**
 * Contiv's own client as a caller (netmaster/rest/contiv-client.ts): recognised by Go's
 * User-Agent without Accept JSON; its errors as one line of text; endpoint labels as Go's map text.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { contivEndpointLabels, contivErrorText, isContivClient, labelsText } from '../../../netmaster/rest/contiv-client';

describe("netmaster REST: Contiv's own client", () => {
  it('is Go-http-client without Accept JSON, and nothing else', () => {
    const is = (headers: Record<string, string>) => isContivClient({ headers });
    assert.equal(is({ 'user-agent': 'Go-http-client/1.1', 'accept-encoding': 'gzip' }), true);
    assert.equal(is({ 'user-agent': 'Go-http-client/2.0', accept: '*/*' }), true);
    assert.equal(is({ 'user-agent': 'Go-http-client/1.1', accept: 'application/json' }), false);
    assert.equal(is({ 'user-agent': 'netctl (netloom)', accept: 'application/json' }), false);
    assert.equal(is({ 'user-agent': 'curl/7.88.1' }), false);
    assert.equal(is({}), false);
  });

  it("sends an error as the line netloom's netctl prints (without its prefix)", () => {
    const e = new NetloomError('CONFLICT', 'subnet 10.1.0.0/24 overlaps\n t1:n1', { field: 'subnet' });
    assert.equal(contivErrorText(e), 'subnet 10.1.0.0/24 overlaps t1:n1 (field: subnet, code: CONFLICT)\n');
    assert.equal(contivErrorText(new Error('boom')), 'boom (code: INTERNAL)\n');
  });

  it("renders labels as Go's %s of a map, keys sorted", () => {
    assert.equal(labelsText({ tier: 'front', app: 'web' }), 'map[app:web tier:front]');
    assert.equal(labelsText({}), 'map[]');
    assert.equal(labelsText(undefined), 'map[]');
    assert.equal(labelsText('map[a:b]'), 'map[a:b]');
  });

  it('turns the labels of every endpoint in a body into text, and no other labels', () => {
    const body = {
      Config: { key: 't1', labels: { keep: 'me' } },
      Oper: { networks: [{ endpoints: [{ endpointID: 'e1', labels: { a: '1' } }] }], providers: [{ endpointID: 'e2', labels: {} }] },
    };
    assert.deepEqual(contivEndpointLabels(body), {
      Config: { key: 't1', labels: { keep: 'me' } },
      Oper: { networks: [{ endpoints: [{ endpointID: 'e1', labels: 'map[a:1]' }] }], providers: [{ endpointID: 'e2', labels: 'map[]' }] },
    });
  });
});
