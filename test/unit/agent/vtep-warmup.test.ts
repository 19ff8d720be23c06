/** VtepWarmup: which VTEPs are warmed, how often the packet goes out, when it gives up or stops. */
import { strict as assert } from 'node:assert';
import { createLogger } from '../../../lib/logger';
import type { Action } from '../../../ovs/openflow/messages';
import { FakeClock } from '../../support/fake-clock';
import { VtepWarmup, VtepWarmupDeps, WARMUP_DEADLINE_MS, warmupActions } from '../../../netplugin/agent/vtep-warmup';

/** The fake clock whose sleeps pass at once, moving time forward, and are recorded. */
class InstantClock extends FakeClock {
  readonly slept: number[] = [];
  private readonly start = this.monotonic();
  override sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.advance(ms);
    return Promise.resolve();
  }
  get elapsedMs(): number {
    return this.monotonic() - this.start;
  }
}

const VXLAN_PORT = 7;

function setup(over: Partial<VtepWarmupDeps> = {}) {
  const sent: { vtep: string; actions: Action[] }[] = [];
  const clock = new InstantClock();
  const warmup = new VtepWarmup({
    localVtepIp: '192.168.0.1',
    vxlanPort: () => VXLAN_PORT,
    packetOut: async (actions) => {
      const dst = actions.find((a) => a.type === 'set_field' && a.field.field === 'tun_ipv4_dst');
      const vtep = dst?.type === 'set_field' && 'value' in dst.field ? String(dst.field.value) : '?';
      sent.push({ vtep, actions });
    },
    logger: createLogger('test', { level: 'silent' }),
    clock,
    ...over,
  });
  return { warmup, sent, clock };
}

describe('agent VtepWarmup', () => {
  it('sends one packet to each new remote VTEP (not to itself, not twice) when there is no uplink to probe', async () => {
    const { warmup, sent } = setup();
    await warmup.warm(['192.168.0.1', '192.168.0.2', '192.168.0.3', '192.168.0.2']);
    assert.deepEqual(
      sent.map((s) => s.vtep),
      ['192.168.0.2', '192.168.0.3'],
    );
    assert.deepEqual(sent[0]!.actions, warmupActions('192.168.0.2', VXLAN_PORT));
    await warmup.warm(['192.168.0.2']);
    assert.equal(sent.length, 2, 'a warmed VTEP is not warmed again');
  });

  it('after reset, the same VTEPs are warmed again (a restarted ovs-vswitchd forgot them)', async () => {
    const { warmup, sent } = setup();
    await warmup.warm(['192.168.0.2']);
    warmup.reset();
    await warmup.warm(['192.168.0.2']);
    assert.equal(sent.length, 2);
  });

  it('does nothing without a VXLAN port or without a local VTEP address', async () => {
    const noPort = setup({ vxlanPort: () => undefined });
    await noPort.warmup.warm(['192.168.0.2']);
    assert.equal(noPort.sent.length, 0);
    const noVtep = setup({ localVtepIp: '' });
    await noVtep.warmup.warm(['192.168.0.2']);
    assert.equal(noVtep.sent.length, 0);
  });

  it('with a probe, retries with a growing delay until the VTEP answers, then sends once more', async () => {
    let probes = 0;
    const { warmup, sent, clock } = setup({ probe: async () => ++probes === 4 });
    await warmup.warm(['192.168.0.2']);
    assert.equal(probes, 4);
    assert.equal(sent.length, 5, 'one packet per attempt, one after the answer');
    assert.deepEqual(clock.slept, [50, 100, 200]);
  });

  it('gives up at the deadline when the VTEP never answers, the delay capped at a second', async () => {
    const { warmup, sent, clock } = setup({ probe: async () => false });
    await warmup.warm(['192.168.0.2']);
    assert.ok(clock.elapsedMs >= WARMUP_DEADLINE_MS && clock.elapsedMs < WARMUP_DEADLINE_MS + 1000);
    assert.equal(Math.max(...clock.slept), 1000);
    assert.equal(sent.length, clock.slept.length);
  });

  it('stops trying once stopped or reset', async () => {
    const stopped = setup({ probe: async () => (stopped.warmup.stop(), false) });
    await stopped.warmup.warm(['192.168.0.2']);
    assert.equal(stopped.sent.length, 1);
    const reset = setup({ probe: async () => (reset.warmup.reset(), false) });
    await reset.warmup.warm(['192.168.0.2']);
    assert.equal(reset.sent.length, 1);
  });

  it('a failing send is logged, not thrown, and the attempts go on', async () => {
    let probes = 0;
    const { warmup } = setup({
      packetOut: async () => {
        throw new Error('not connected');
      },
      probe: async () => ++probes === 2,
    });
    await warmup.warm(['192.168.0.2']);
    assert.equal(probes, 2);
  });
});
