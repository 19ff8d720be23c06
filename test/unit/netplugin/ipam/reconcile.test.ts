import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpamStore } from '../../../../netplugin/ipam/ipam-store';
import { applyPlan, planReconcile, type NetmasterEndpoint } from '../../../../netplugin/ipam/reconcile';

const NET = 't1/net1';
const BLOCK = { cidr: '10.1.0.0/28', networkKey: NET, reserved: ['10.1.0.0', '10.1.0.1'] };

describe('ipam reconcile after a restart', () => {
  let dir: string;
  let store: IpamStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netloom-ipam-reconcile-'));
    store = new IpamStore(join(dir, 'ipam.json'));
    const a = store.load();
    a.addBlock(BLOCK);
    await store.save(a);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const empty = { confirm: [], register: [], forget: [], deregister: [], conflicts: [] };

  it('crash before the record: nothing is held, and the address goes to the next ADD', () => {
    const a = store.load();
    a.allocate('e1', NET); // never saved: the agent died here
    const b = store.load();
    assert.deepEqual(planReconcile(b, []), empty);
    assert.equal(b.allocate('e2', NET).address, '10.1.0.2');
  });

  it('crash after the record, before registration: the address is still held and gets registered', async () => {
    const a = store.load();
    a.allocate('e1', NET);
    await store.save(a);
    const b = store.load();
    const plan = planReconcile(b, []);
    assert.deepEqual(plan, { ...empty, register: [{ endpointId: 'e1', networkKey: NET, address: '10.1.0.2', state: 'local' }] });
    assert.equal(b.allocate('e2', NET).address, '10.1.0.3', 'not given twice');
  });

  it('crash after registration, before it was recorded: confirmed, not registered again', async () => {
    const a = store.load();
    a.allocate('e1', NET);
    await store.save(a);
    const netmaster: NetmasterEndpoint[] = [{ endpointId: 'e1', networkKey: NET, address: '10.1.0.2' }];
    const b = store.load();
    const plan = planReconcile(b, netmaster);
    assert.deepEqual(plan, { ...empty, confirm: ['e1'] });
    applyPlan(b, plan);
    assert.equal(b.get('e1')?.state, 'registered');
    assert.deepEqual(planReconcile(b, netmaster), empty, 'a second pass has nothing to do');
  });

  it('after registration recorded: nothing to do', async () => {
    const a = store.load();
    a.allocate('e1', NET);
    a.markRegistered('e1');
    await store.save(a);
    assert.deepEqual(planReconcile(store.load(), [{ endpointId: 'e1', networkKey: NET, address: '10.1.0.2' }]), empty);
  });

  it('a DEL that released locally and died before deregistering: deregistered, before the new holder registers', async () => {
    const a = store.load();
    a.allocate('e1', NET);
    a.markRegistered('e1');
    a.release('e1');
    a.allocateAt('e2', NET, '10.1.0.2'); // the freed address went to a new endpoint (asked for, or the cursor wrapped)
    await store.save(a);
    const plan = planReconcile(store.load(), [{ endpointId: 'e1', networkKey: NET, address: '10.1.0.2' }]);
    assert.deepEqual(plan.deregister, [{ endpointId: 'e1', networkKey: NET, address: '10.1.0.2' }]);
    assert.deepEqual(
      plan.register.map((r) => [r.endpointId, r.address]),
      [['e2', '10.1.0.2']],
    );
    assert.deepEqual(plan.conflicts, []);
  });

  it('an endpoint DELed (deregistration lost) and ADDed again at another address: moved at netmaster', async () => {
    const a = store.load();
    a.allocate('e0', NET);
    a.allocate('e1', NET);
    a.markRegistered('e1');
    a.release('e0');
    a.release('e1'); // the crash loses the deregistration of e1 at 10.1.0.3
    a.allocate('e1', NET); // the runtime ADDs e1 again: it gets the next address, 10.1.0.4
    await store.save(a);
    const plan = planReconcile(store.load(), [{ endpointId: 'e1', networkKey: NET, address: '10.1.0.3' }]);
    assert.deepEqual(plan.deregister, [{ endpointId: 'e1', networkKey: NET, address: '10.1.0.3' }]);
    assert.deepEqual(
      plan.register.map((r) => [r.endpointId, r.address]),
      [['e1', '10.1.0.4']],
    );
    assert.deepEqual(plan.conflicts, []);
  });

  it('does not register onto an address netmaster keeps under a conflicted endpoint', () => {
    const a = store.load();
    a.allocate('e1', NET); // 10.1.0.2
    a.markRegistered('e1');
    a.allocate('e2', NET); // 10.1.0.3, not registered yet
    // netmaster has e1 at e2's address: e1 is a conflict, so its record stays, and e2 must wait
    const plan = planReconcile(a, [{ endpointId: 'e1', networkKey: NET, address: '10.1.0.3' }]);
    assert.deepEqual(plan.register, []);
    assert.deepEqual(plan.deregister, []);
    assert.deepEqual(plan.conflicts.map((c) => c.endpointId).sort(), ['e1', 'e2']);
  });

  it('a registered endpoint netmaster no longer has is forgotten here', () => {
    const a = store.load();
    a.allocate('e1', NET);
    a.markRegistered('e1');
    const plan = planReconcile(a, []);
    assert.deepEqual(plan, { ...empty, forget: ['e1'] });
    applyPlan(a, plan);
    assert.equal(a.get('e1'), undefined);
    assert.equal(a.freeCount(NET), 14);
  });

  it('leaves netmaster endpoints outside the usable addresses of this host blocks alone (gateway, static, other networks)', () => {
    const a = store.load();
    const netmaster = [
      { endpointId: 'static', networkKey: NET, address: '10.1.0.200' },
      // inside the block but reserved there: netmaster's allocation, not ours to drop
      { endpointId: 'gw', networkKey: NET, address: '10.1.0.1' },
      { endpointId: 'elsewhere', networkKey: 't1/other', address: '10.1.0.5' },
    ];
    assert.deepEqual(planReconcile(a, netmaster), empty);
  });

  it('reports conflicts and frees nothing of them', () => {
    const a = store.load();
    a.allocate('e1', NET);
    a.markRegistered('e1');
    a.allocate('e2', NET);
    a.markRegistered('e2');
    const plan = planReconcile(a, [
      { endpointId: 'e1', networkKey: NET, address: '10.1.0.9' }, // same endpoint, another address
      { endpointId: 'x', networkKey: NET, address: '10.1.0.3' }, // e2's address under another endpoint
    ]);
    assert.deepEqual(
      plan.conflicts.map((c) => c.endpointId),
      ['e1', 'e2', 'x'],
    );
    assert.deepEqual([plan.forget, plan.deregister, plan.register, plan.confirm], [[], [], [], []]);
  });
});
