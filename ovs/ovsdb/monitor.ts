/**
 * OVSDB monitors (RFC 7047 sections 4.1.5-4.1.7 and 4.1.6 "update"): the request shape, and the
 * table-updates a server sends, flattened into typed row changes (initial / insert / modify /
 * delete) that callers can switch on.
 */
import { NetloomError } from '../../lib/errors';
import { Row } from './datum';

export interface MonitorSelect {
  initial?: boolean;
  insert?: boolean;
  delete?: boolean;
  modify?: boolean;
}

export interface MonitorRequest {
  /** columns to report; all columns when omitted */
  columns?: string[];
  select?: MonitorSelect;
}

/** table name to one request (or several, each with its own columns) */
export type MonitorRequests = Record<string, MonitorRequest | MonitorRequest[]>;

/** As received: table -> row uuid -> {old?, new?} */
export type TableUpdates = Record<string, Record<string, { old?: Row; new?: Row }>>;

export type RowChangeKind = 'initial' | 'insert' | 'modify' | 'delete';

export interface RowChange {
  table: string;
  uuid: string;
  kind: RowChangeKind;
  /** delete: the row as it was; modify: the old values of the columns that changed */
  old?: Row;
  /** initial/insert: the row; modify: the row with its new values */
  new?: Row;
}

/**
 * Flatten table-updates into row changes. `initial` marks the rows of the monitor reply (present
 * when the monitor started) rather than inserts seen later.
 */
export function rowChanges(updates: unknown, initial: boolean): RowChange[] {
  if (typeof updates !== 'object' || updates === null || Array.isArray(updates)) {
    throw new NetloomError('DECODE_ERROR', `OVSDB table-updates must be an object, got ${JSON.stringify(updates)?.slice(0, 200)}`);
  }
  const out: RowChange[] = [];
  for (const [table, rows] of Object.entries(updates as Record<string, unknown>)) {
    if (typeof rows !== 'object' || rows === null)
      throw new NetloomError('DECODE_ERROR', `OVSDB table-update for ${table} is not an object`);
    for (const [uuid, ru] of Object.entries(rows as Record<string, { old?: Row; new?: Row }>)) {
      const hasOld = ru.old !== undefined;
      const hasNew = ru.new !== undefined;
      let kind: RowChangeKind;
      if (hasOld && hasNew) kind = 'modify';
      else if (hasNew) kind = initial ? 'initial' : 'insert';
      else if (hasOld) kind = 'delete';
      else throw new NetloomError('DECODE_ERROR', `OVSDB row-update for ${table} ${uuid} has neither old nor new`);
      const change: RowChange = { table, uuid, kind };
      if (hasOld) change.old = ru.old;
      if (hasNew) change.new = ru.new;
      out.push(change);
    }
  }
  return out;
}
