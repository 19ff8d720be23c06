/**
 * Hand-written flows and a base packet for the packet tracer's own tests: a flow is a DesiredFlow
 * (feature l2Forward, object `table/priority` unless named).
 */
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import { NO_TABLE } from '../../../ovs/openflow/messages';
import type { Action, Instruction, Match } from '../../../ovs/openflow/messages';
import type { Packet } from '../../support/packet-tracer';

export function f(
  table: number,
  priority: number,
  match: Match,
  instructions: Instruction[],
  object = `${table}/${priority}`,
): DesiredFlow {
  return { table, priority, match, instructions, feature: 'l2Forward', object };
}
export const apply = (...actions: Action[]): Instruction => ({ type: 'apply_actions', actions });
export const out = (port: number): Action => ({ type: 'output', port, maxLen: 0 });
export const goto = (tableId: number): Instruction => ({ type: 'goto_table', tableId });
/** conjunction(id, k/n) with k 0-based, as on the wire */
export const conj = (id: number, clause: number, nClauses: number): Action => ({ type: 'conjunction', id, clause, nClauses });
/** ct(zone=5[,commit][,force][,table=N][,exec(...)]) */
export const ct = (opts: { commit?: boolean; force?: boolean; table?: number; exec?: Action[] } = {}): Action => ({
  type: 'ct',
  flags: (opts.commit ? 1 : 0) | (opts.force ? 2 : 0),
  zoneImm: 5,
  recircTable: opts.table ?? NO_TABLE,
  alg: 0,
  actions: opts.exec ?? [],
});

export const base: Packet = {
  in_port: 1,
  eth_src: '02:00:00:00:00:01',
  eth_dst: '02:00:00:00:00:02',
  eth_type: 0x0800,
  ipv4_src: '10.0.0.1',
  ipv4_dst: '10.0.0.2',
  ip_proto: 17,
  udp_src: 1000,
  udp_dst: 2000,
};
