/**
 * A worker process of the agent simulator (forked by simulator.ts from the compiled file): runs
 * one AgentGroup and answers the parent's IPC messages (messages.ts). Held conditions are sent in
 * batches (every 10 ms) with the times the agents recorded. The worker exits when the parent says
 * stop or when the IPC channel closes (the parent died).
 */
import { errorMessage } from '../../lib/errors';
import { AgentGroup } from './group';
import type { Condition } from './conditions';
import type { FromWorker, ToWorker } from './messages';

let group: AgentGroup | undefined;
const pending = new Map<string, Array<[number, number, number]>>();
let flushTimer: NodeJS.Timeout | undefined;
/** watches asked for before the agents exist (applied when they are created) */
const early: Array<{ id: string; cond: Condition }> = [];

function send(m: FromWorker): void {
  if (process.connected) process.send?.(m);
}

function flush(): void {
  flushTimer = undefined;
  for (const [id, held] of pending) send({ t: 'held', id, held });
  pending.clear();
}

function onHeld(id: string, index: number, at: number, ownAt: number): void {
  let list = pending.get(id);
  if (!list) pending.set(id, (list = []));
  list.push([index, at, ownAt]);
  flushTimer ??= setTimeout(flush, 10);
}

async function stopAndExit(req?: number): Promise<void> {
  try {
    await group?.stop();
  } finally {
    flush();
    if (req !== undefined) send({ t: 'stopped', req });
    // let the IPC message go before leaving
    setTimeout(() => process.exit(0), 50);
  }
}

function handle(m: ToWorker): void {
  switch (m.t) {
    case 'start':
      group = new AgentGroup(m.specs, m.opts);
      for (const w of early.splice(0)) group.watch(w.id, w.cond, (index, at, ownAt) => onHeld(w.id, index, at, ownAt));
      group.start().then(
        () => send({ t: 'started' }),
        (e: unknown) => send({ t: 'error', message: errorMessage(e) }),
      );
      return;
    case 'watch':
      if (group) group.watch(m.id, m.cond, (index, at, ownAt) => onHeld(m.id, index, at, ownAt));
      else early.push({ id: m.id, cond: m.cond });
      flush();
      send({ t: 'watching', id: m.id });
      return;
    case 'unwatch':
      group?.unwatch(m.id);
      early.splice(0, early.length, ...early.filter((w) => w.id !== m.id));
      pending.delete(m.id);
      return;
    case 'stats':
      if (group) send({ t: 'stats', req: m.req, stats: group.stats() });
      return;
    case 'stop':
      void stopAndExit(m.req);
      return;
  }
}

if (require.main === module) {
  process.on('message', (m: ToWorker) => {
    try {
      handle(m);
    } catch (e) {
      send({ t: 'error', message: errorMessage(e) });
    }
  });
  process.on('disconnect', () => void stopAndExit());
  send({ t: 'ready' });
}
