import assert from 'node:assert/strict';
import { isNetloomError, NetloomError } from '../../../lib/errors';
import type { CommandRunner, RunResult } from '../../../lib/exec';
import { OPEN } from '../../../lib/policy/model';
import { RoutedPolicyApplier } from '../../../netplugin/routed/policy-applier';
import type { RoutedPolicyInput } from '../../../netplugin/routed/policy-model';
import { parseGenerationComment } from '../../../netplugin/routed/policy-nft';

/** A fake nft: holds the last table loaded, lists it tersely, refuses loads while `refuse` is set. */
class FakeNft {
  readonly calls: string[] = [];
  table = '';
  refuse = false;
  readonly runner: CommandRunner = async (cmd, args, opts) => {
    this.calls.push(`${cmd} ${args.join(' ')}`);
    const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '' });
    if (args[0] === '-t' && args[1] === 'list')
      return this.table ? ok(this.table) : { code: 1, stdout: '', stderr: 'No such file or directory' };
    if (args[0] === '-f') {
      if (this.refuse) throw new NetloomError('COMMAND_FAILED', 'nft -f -: exit 1: Error: syntax error');
      const script = opts?.input ?? '';
      assert.ok(script.startsWith('table inet netloom_policy\ndelete table inet netloom_policy\n'), 'one transaction replacing the table');
      this.table = script.split('\n').slice(2).join('\n');
      return ok();
    }
    return ok();
  };
}

const input = (ips: string[]): RoutedPolicyInput => ({
  endpoints: ips.map((ip, i) => ({ hostIf: `nr${i}`, policy: { endpoint: `e${i}`, ip, tenant: 't', ingress: OPEN, egress: OPEN } })),
  tenantSubnets: [{ tenant: 't', subnet: '10.1.0.0/24' }],
});

describe('routed policy: the applier (fake nft)', () => {
  it('loads the table in one transaction, only when its text changed; a change is the next generation', async () => {
    const nft = new FakeNft();
    const a = new RoutedPolicyApplier({ runner: nft.runner });
    assert.deepEqual(await a.apply(input(['10.1.0.1'])), { loaded: true, generation: 1 });
    assert.deepEqual(nft.calls, ['nft -t list table inet netloom_policy', 'nft -f -'], 'reads the generation the kernel holds, once');
    assert.deepEqual(await a.apply(input(['10.1.0.1'])), { loaded: false, generation: 1 });
    assert.equal(nft.calls.length, 2, 'the same input again runs nothing');
    assert.deepEqual(await a.apply(input(['10.1.0.1', '10.1.0.2'])), { loaded: true, generation: 2 });
    assert.equal(nft.calls.length, 3);
    assert.equal(parseGenerationComment(nft.table)?.generation, 2);
  });

  it("a restarted agent continues from the kernel's generation: kept for the same policy, the next one for another", async () => {
    const nft = new FakeNft();
    await new RoutedPolicyApplier({ runner: nft.runner }).apply(input(['10.1.0.1']));
    await new RoutedPolicyApplier({ runner: nft.runner }).apply(input(['10.1.0.1', '10.1.0.2']));
    assert.equal(parseGenerationComment(nft.table)?.generation, 2);
    const restarted = new RoutedPolicyApplier({ runner: nft.runner });
    assert.deepEqual(await restarted.apply(input(['10.1.0.1', '10.1.0.2'])), { loaded: true, generation: 2 });
    assert.deepEqual(await new RoutedPolicyApplier({ runner: nft.runner }).apply(input(['10.1.0.3'])), { loaded: true, generation: 3 });
  });

  it('a refused load throws and leaves what was held: the same input is tried again', async () => {
    const nft = new FakeNft();
    const a = new RoutedPolicyApplier({ runner: nft.runner });
    await a.apply(input(['10.1.0.1']));
    const held = nft.table;
    nft.refuse = true;
    await assert.rejects(a.apply(input(['10.1.0.2'])), (e: unknown) => isNetloomError(e, 'COMMAND_FAILED'));
    assert.equal(nft.table, held);
    nft.refuse = false;
    assert.deepEqual(await a.apply(input(['10.1.0.2'])), { loaded: true, generation: 2 });
  });

  it('bad input is refused before nft runs', async () => {
    const nft = new FakeNft();
    await assert.rejects(
      new RoutedPolicyApplier({ runner: nft.runner }).apply(input(['10.1.0.999'])),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'ip',
    );
    assert.deepEqual(nft.calls, []);
  });

  it('no routed endpoint left removes the table (once); remove() too; the same policy coming back keeps its generation (what it admitted still holds), another gets the next', async () => {
    const nft = new FakeNft();
    const a = new RoutedPolicyApplier({ runner: nft.runner });
    await a.apply(input(['10.1.0.1']));
    assert.deepEqual(await a.apply(input([])), { loaded: true, generation: 0 });
    assert.equal(nft.table, '');
    const n = nft.calls.length;
    assert.deepEqual(await a.apply(input([])), { loaded: false, generation: 0 });
    await a.remove();
    assert.equal(nft.calls.length, n, 'already removed');
    assert.deepEqual(await a.apply(input(['10.1.0.1'])), { loaded: true, generation: 1 });
    await a.remove();
    assert.equal(nft.table, '');
    assert.deepEqual(await a.apply(input(['10.1.0.2'])), { loaded: true, generation: 2 });
    assert.equal(nft.calls.length, n + 3);
  });

  it('stateless while no policy can deny; stateful from the first that can, and so while the table exists (across a restart); removed, it starts stateless again', async () => {
    const nft = new FakeNft();
    const a = new RoutedPolicyApplier({ runner: nft.runner });
    const isolated = (ips: string[]): RoutedPolicyInput => {
      const x = input(ips);
      return {
        ...x,
        endpoints: x.endpoints.map((e, i) => (i === 0 ? { ...e, policy: { ...e.policy, ingress: { isolated: true, rules: [] } } } : e)),
      };
    };
    const mode = () => parseGenerationComment(nft.table)?.stateful;
    await a.apply(input(['10.1.0.1', '10.1.0.2']));
    assert.equal(mode(), false);
    assert.doesNotMatch(nft.table, /\bct\b/);
    await a.apply(isolated(['10.1.0.1', '10.1.0.2']));
    assert.equal(mode(), true);
    await a.apply(input(['10.1.0.1', '10.1.0.2']));
    assert.equal(mode(), true, 'the isolation gone, the table stays stateful');
    assert.match(nft.table, /\bct state\b/);
    assert.doesNotMatch(nft.table, /deny_capable/, 'no endpoint can deny: no pickup rule');
    const restarted = new RoutedPolicyApplier({ runner: nft.runner });
    await restarted.apply(input(['10.1.0.1', '10.1.0.3']));
    assert.equal(mode(), true, 'a restarted agent reads it from the kernel');
    await restarted.apply(input([]));
    await restarted.apply(input(['10.1.0.1']));
    assert.equal(mode(), false, 'a new table');
  });
});
