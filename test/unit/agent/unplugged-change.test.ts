import { strict as assert } from 'node:assert';
import { onlyUnpluggedAdditions } from '../../../netplugin/agent/unplugged-change';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';

const ep = (id: string, host: string, ip: string) => ({ id, network: 't:n', host, ip, mac: '02:00:00:00:00:01' });

describe('a desired state that only adds unplugged local endpoints', () => {
  const base = parseHostState({ endpoints: [ep('a', 'h1', '10.1.0.2'), ep('r', 'h2', '10.1.0.66')] });
  const extra = parseHostState({ endpoints: [ep('n', 'h1', '10.1.0.3'), ep('x', 'h2', '10.1.0.67')] }).endpoints;
  const withEndpoints = (s: HostState, more: HostState['endpoints']): HostState => ({ ...s, endpoints: [...s.endpoints, ...more] });
  const none = () => false;

  it('needs no reconcile: a new endpoint of this host without its port', () => {
    assert.equal(onlyUnpluggedAdditions(base, withEndpoints(base, [extra[0]!]), 'h1', none), true);
  });

  it("needs one when the endpoint is plugged, is another host's, or anything else changed", () => {
    assert.equal(
      onlyUnpluggedAdditions(base, withEndpoints(base, [extra[0]!]), 'h1', (id) => id === 'n'),
      false,
      'plugged',
    );
    assert.equal(onlyUnpluggedAdditions(base, withEndpoints(base, [extra[1]!]), 'h1', none), false, 'a remote endpoint');
    assert.equal(onlyUnpluggedAdditions(base, { ...withEndpoints(base, [extra[0]!]), groups: [] }, 'h1', none), false, 'another list');
    assert.equal(onlyUnpluggedAdditions(base, { ...base, endpoints: [base.endpoints[0]!] }, 'h1', none), false, 'a removal');
    const replaced = { ...base, endpoints: [{ ...base.endpoints[0]! }, base.endpoints[1]!, extra[0]!] };
    assert.equal(onlyUnpluggedAdditions(base, replaced, 'h1', none), false, 'an endpoint that changed (a new object)');
    assert.equal(onlyUnpluggedAdditions(base, base, 'h1', none), false, 'the same state');
  });
});
