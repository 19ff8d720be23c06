/**
 * The netmaster benchmark refuses bad arguments, and an etcd port another run holds, before it
 * starts or removes anything (no root, no daemons: every refusal comes first).
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { run } from '../../../bench/netmaster';
import { NetloomError } from '../../../lib/errors';

const field = (name: string) => (e: unknown) => e instanceof NetloomError && e.code === 'INVALID_ARGUMENT' && e.field === name;

describe('netmaster benchmark arguments', () => {
  let held: Server | undefined;
  after(() => held?.close());

  it('refuses an unknown --only, --only registrations without registrations, a bad phase flag or etcd port', async () => {
    await assert.rejects(run(['--only', 'rest']), field('--only'));
    await assert.rejects(run(['--only', 'registrations', '--registrations', '0']), field('--registrations'));
    await assert.rejects(run(['--registration-batch', '0']), field('--registration-batch'));
    await assert.rejects(run(['--etcd-port', '80']), field('--etcd-port'));
  });

  it('refuses to start on an etcd port that is taken (its data directory stays)', async () => {
    const s = createServer();
    held = s;
    const port = await new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
    await assert.rejects(run(['--only', 'registrations', '--etcd-port', String(port)]), /is taken/);
    await assert.rejects(run(['--only', 'registrations', '--etcd-port', String(port - 1)]), /is taken/);
  });
});
