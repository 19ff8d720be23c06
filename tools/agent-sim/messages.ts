/** The IPC messages between the simulator (parent) and its worker processes (worker.ts). */
import type { Condition } from './conditions';
import type { AgentSpec, GroupOptions, GroupStats } from './group';

export type ToWorker =
  | { t: 'start'; specs: AgentSpec[]; opts: GroupOptions }
  | { t: 'watch'; id: string; cond: Condition }
  | { t: 'unwatch'; id: string }
  | { t: 'stats'; req: number }
  | { t: 'stop'; req: number };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'started' }
  | { t: 'watching'; id: string }
  /** agents whose watch `id` held: [agent index, crossProcessNow() when it held, when it would have on a core of its own] */
  | { t: 'held'; id: string; held: Array<[number, number, number]> }
  | { t: 'stats'; req: number; stats: GroupStats }
  | { t: 'stopped'; req: number }
  | { t: 'error'; message: string };
