/** LeaderElector: a failed campaign is retried after retryMs on the clock, and stop() cancels that retry (fake etcd, fake clock). */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { LeaderElector } from '../../../netmaster/ha/leader';
import type { Campaign, CampaignEvents, ElectionStore } from '../../../netmaster/store/election';
import { FakeClock } from '../../support/fake-clock';

/** The store's election, faked: every campaign is an emitter the test drives. */
function fakeStore(): { store: ElectionStore; campaigns: Campaign[] } {
  const campaigns: Campaign[] = [];
  const election = {
    campaign: (): Campaign => {
      const c: Campaign = Object.assign(new EventEmitter<CampaignEvents>(), { resign: async (): Promise<void> => undefined });
      campaigns.push(c);
      return c;
    },
    leader: async (): Promise<string | undefined> => undefined,
  };
  return { store: { election: () => election }, campaigns };
}

describe('netmaster LeaderElector retry', () => {
  it('campaigns again retryMs after a failed campaign, and drops the role it had', async () => {
    const clock = new FakeClock();
    const { store, campaigns } = fakeStore();
    const e = new LeaderElector({ store, id: 'a', ttlSeconds: 2, clock, retryMs: 500 });
    const events: string[] = [];
    e.on('elected', () => events.push('elected'));
    e.on('lost', (why) => events.push(`lost: ${why}`));
    e.start();
    assert.equal(campaigns.length, 1);
    campaigns[0]!.emit('elected');
    assert.equal(e.isLeader, true);
    campaigns[0]!.emit('error', new Error('lease lost'));
    assert.equal(e.isLeader, false);
    await clock.tick(499);
    assert.equal(campaigns.length, 1, 'not before retryMs');
    await clock.tick(1);
    assert.equal(campaigns.length, 2, 'a new campaign after retryMs');
    campaigns[1]!.emit('elected');
    assert.deepEqual(events, ['elected', 'lost: campaign failed: lease lost', 'elected']);
    await e.stop();
  });

  it('stop() cancels a pending retry: no campaign after it', async () => {
    const clock = new FakeClock();
    const { store, campaigns } = fakeStore();
    const e = new LeaderElector({ store, id: 'a', ttlSeconds: 2, clock, retryMs: 500 });
    e.start();
    campaigns[0]!.emit('error', new Error('etcd down'));
    assert.equal(clock.pending, 1);
    await e.stop();
    assert.equal(clock.pending, 0, 'the retry timer is gone');
    e.start();
    await clock.tick(1000);
    assert.equal(campaigns.length, 2, 'only the campaign of the second start()');
    await e.stop();
  });
});
