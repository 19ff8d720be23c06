/**
 * States the agent realizes alike (equal but for the endpoints' revisions) need no reconcile, only
 * an acknowledgement: netmaster's confirmation of an endpoint plugged here is acknowledged at once
 * when nothing is pending, and a state that changes anything else asks for a reconcile as before.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../lib/logger';
import { Agent } from '../../../netplugin/agent/agent';
import type { DesiredStateSource, EndpointAllocator } from '../../../netplugin/agent/fabric';
import { realizedAlike } from '../../../netplugin/agent/realized-alike';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';

const ep = (id: string, host: string, ip: string, revision = 0) => ({
  id,
  network: 't:n',
  host,
  ip,
  mac: '02:00:00:00:00:0' + id.length,
  vtepIp: '10.9.0.1',
  labels: { app: 'web' },
  revision,
});
const base = (): HostState =>
  parseHostState({
    networks: [{ key: 't:n', tenant: 't', name: 'n', encap: 'vxlan', pktTag: 5001, subnet: '10.1.0.0/24', networkId: 1 }],
    endpoints: [ep('a', 'h1', '10.1.0.2'), ep('bb', 'h2', '10.1.0.66', 7)],
  });

describe('desired states realized alike', () => {
  it('are equal but for the endpoints’ revisions (fresh objects, as every netmaster update is)', () => {
    const confirmed = base();
    confirmed.endpoints[0]!.revision = 42;
    assert.equal(realizedAlike(base(), confirmed), true);
    assert.equal(realizedAlike(base(), base()), true);
  });

  it('are not when an endpoint, a list or a setting differs', () => {
    const other = (f: (s: HostState) => void): HostState => {
      const s = base();
      f(s);
      return s;
    };
    assert.equal(
      realizedAlike(
        base(),
        other((s) => (s.endpoints[0]!.ip = '10.1.0.3')),
      ),
      false,
      'an address',
    );
    assert.equal(
      realizedAlike(
        base(),
        other((s) => (s.endpoints[1]!.labels = {})),
      ),
      false,
      'labels',
    );
    assert.equal(
      realizedAlike(
        base(),
        other((s) => s.endpoints.pop()),
      ),
      false,
      'an endpoint gone',
    );
    assert.equal(
      realizedAlike(
        base(),
        other((s) => (s.networks[0]!.mtu = 1400)),
      ),
      false,
      'a network',
    );
    assert.equal(
      realizedAlike(
        base(),
        other((s) => (s.blocks = [{ network: 't:n', cidr: '10.1.0.0/26', host: 'h1', vtepIp: '' }])),
      ),
      false,
      'blocks',
    );
  });

  describe('in the agent (no OVS: state given directly)', () => {
    let dir: string;
    let agent: Agent;
    const acks: HostState[] = [];
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'nl-alike-'));
      acks.length = 0;
      const source: DesiredStateSource = {
        start: async () => undefined,
        stop: async () => undefined,
        connected: true,
        realized: (s) => void acks.push(s),
      };
      agent = new Agent(
        {
          hostName: 'h1',
          ovsRunDir: join(dir, 'ovs'),
          bridge: { bridge: 'br-int', phyBridge: 'br-phy', datapathType: 'netdev' },
          underlayMtu: 1500,
          txChecksumOff: false,
          endpointStatePath: undefined,
          hostNetwork: false,
        },
        { source, allocator: { connected: true } as unknown as EndpointAllocator, logger: createLogger('test', { level: 'silent' }) },
      );
    });
    afterEach(async () => {
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('acknowledges a confirmation at once, without asking for a reconcile; asks for one when something changed', async () => {
      const first = base();
      agent['onState'](first);
      await agent.loop.settled();
      agent['appliedState'] = first; // as a successful apply leaves it
      const confirmed = base();
      confirmed.endpoints[0]!.revision = 9;
      agent['onState'](confirmed);
      assert.equal(agent.loop.pending, false, 'no reconcile asked for');
      assert.deepEqual(acks, [confirmed], 'its revision acknowledged');
      const again = base();
      again.endpoints[0]!.revision = 10;
      agent['onState'](again);
      assert.deepEqual(acks, [confirmed, again], 'a run of such states: each acknowledged');
      const moved = base();
      moved.endpoints[1]!.ip = '10.1.0.67';
      agent['onState'](moved);
      assert.equal(agent.loop.pending, true, 'a change: reconcile');
      assert.equal(acks.length, 2, 'acknowledged only once realized');
    });

    it('leaves the acknowledgement to the reconcile that is pending', () => {
      const first = base();
      agent['onState'](first); // its reconcile is pending
      agent['appliedState'] = first;
      const confirmed = base();
      confirmed.endpoints[0]!.revision = 9;
      agent['onState'](confirmed);
      assert.deepEqual(acks, []);
    });
  });
});
