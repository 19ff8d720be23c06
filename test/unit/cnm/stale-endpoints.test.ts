/**
 * Joined endpoints whose container went without Leave/DeleteEndpoint (a killed dockerd, started
 * again: netplugin/cnm/stale-endpoints.ts): released once their host end has been gone for the
 * grace period, and a late ReleaseAddress from Docker leaves the address to its new holder.
 */
import { strict as assert } from 'node:assert';
import { bareAddress } from '../../../netplugin/cnm/addresses';
import { endpointLinkNames } from '../../../netplugin/cnm/backend';
import { STALE_GRACE_MS } from '../../../netplugin/cnm/stale-endpoints';
import { createEp, createNet, EP, EP2, NET, setup } from './harness';

async function joined(t: ReturnType<typeof setup>, pool: string, ep: string): Promise<string> {
  const { address } = await createEp(t, pool, ep);
  await t.ok('NetworkDriver.Join', { NetworkID: NET, EndpointID: ep, SandboxKey: `/var/run/docker/netns/${ep.slice(0, 12)}`, Options: {} });
  return address;
}

describe('cnm: endpoints whose container went without Docker telling the plugin', () => {
  it('are released once the host end has been gone for the grace period, not before', async () => {
    const t = setup();
    const pool = await createNet(t);
    const address = await joined(t, pool, EP);
    const kept = await joined(t, pool, EP2);
    t.backend.goneHostEnds.add(endpointLinkNames(EP).host);
    assert.deepEqual(await t.plugin.sweepStaleEndpoints(1000), [], 'first seen gone');
    assert.deepEqual(await t.plugin.sweepStaleEndpoints(1000 + STALE_GRACE_MS - 1), [], 'within the grace period');
    assert.ok(t.plugin.snapshot().endpoints[EP]);
    assert.deepEqual(await t.plugin.sweepStaleEndpoints(1000 + STALE_GRACE_MS), [EP]);
    const s = t.plugin.snapshot();
    assert.equal(s.endpoints[EP], undefined);
    assert.ok(s.endpoints[EP2], 'the other endpoint stays');
    assert.equal(s.pools[pool]?.addresses[bareAddress(address, 'a')], undefined, 'its address is released');
    assert.equal(s.pools[pool]?.addresses[bareAddress(kept, 'a')], 'endpoint');
    assert.deepEqual(
      t.backend.calls.filter((c) => c.op === 'deleteEndpoint' || c.op === 'releaseAddress').map((c) => c.op),
      ['deleteEndpoint', 'releaseAddress'],
      'the backend deletes the endpoint and gets the address back',
    );
  });

  it('a host end that is back (or was only slow) is not counted', async () => {
    const t = setup();
    const pool = await createNet(t);
    await joined(t, pool, EP);
    const host = endpointLinkNames(EP).host;
    t.backend.goneHostEnds.add(host);
    await t.plugin.sweepStaleEndpoints(0);
    t.backend.goneHostEnds.delete(host);
    await t.plugin.sweepStaleEndpoints(STALE_GRACE_MS / 2);
    t.backend.goneHostEnds.add(host);
    assert.deepEqual(await t.plugin.sweepStaleEndpoints(STALE_GRACE_MS), [], 'gone again: the period starts again');
    assert.deepEqual(await t.plugin.sweepStaleEndpoints(2 * STALE_GRACE_MS), [EP]);
  });

  it("Docker's late DeleteEndpoint and ReleaseAddress leave the address to the endpoint that has it now", async () => {
    const t = setup();
    const pool = await createNet(t);
    const address = await joined(t, pool, EP);
    t.backend.goneHostEnds.add(endpointLinkNames(EP).host);
    await t.plugin.sweepStaleEndpoints(0);
    await t.plugin.sweepStaleEndpoints(STALE_GRACE_MS);
    // the next container gets the address again (the newest released), then Docker's late calls come
    const again = await joined(t, pool, EP2);
    assert.equal(again, address);
    const before = t.backend.calls.filter((c) => c.op === 'releaseAddress').length;
    await t.ok('NetworkDriver.Leave', { NetworkID: NET, EndpointID: EP });
    await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
    await t.ok('IpamDriver.ReleaseAddress', { PoolID: pool, Address: address });
    assert.equal(t.backend.calls.filter((c) => c.op === 'releaseAddress').length, before, 'not released at the backend');
    assert.equal(t.plugin.snapshot().pools[pool]?.addresses[bareAddress(address, 'a')], 'endpoint');
    assert.ok(t.plugin.snapshot().endpoints[EP2]);
  });
});
