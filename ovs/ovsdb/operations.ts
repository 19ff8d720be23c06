/**
 * The operations of an OVSDB `transact` (RFC 7047 section 5.2) and their conditions and mutations,
 * as plain JSON-ready data, with small builders. Builders only shape data and check arguments;
 * sending is the client's job.
 */
import { NetloomError } from '../../lib/errors';
import { Datum, namedUuid, PlainValue, Row, toDatum, toRow, uuid } from './datum';

export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
export type Condition = [string, ConditionFunction, Datum];

export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type Mutation = [string, Mutator, Datum];

export interface InsertOp {
  op: 'insert';
  table: string;
  row: Row;
  'uuid-name'?: string;
}
export interface SelectOp {
  op: 'select';
  table: string;
  where: Condition[];
  columns?: string[];
}
export interface UpdateOp {
  op: 'update';
  table: string;
  where: Condition[];
  row: Row;
}
export interface MutateOp {
  op: 'mutate';
  table: string;
  where: Condition[];
  mutations: Mutation[];
}
export interface DeleteOp {
  op: 'delete';
  table: string;
  where: Condition[];
}
export interface WaitOp {
  op: 'wait';
  table: string;
  where: Condition[];
  columns: string[];
  until: '==' | '!=';
  rows: Row[];
  timeout?: number;
}
export interface CommitOp {
  op: 'commit';
  durable: boolean;
}
export interface AbortOp {
  op: 'abort';
}
export interface CommentOp {
  op: 'comment';
  comment: string;
}
export interface AssertOp {
  op: 'assert';
  lock: string;
}

export type Operation = InsertOp | SelectOp | UpdateOp | MutateOp | DeleteOp | WaitOp | CommitOp | AbortOp | CommentOp | AssertOp;

/** Per-operation results (RFC 7047 5.2.1-5.2.11); an error result becomes an OvsdbError instead. */
export interface InsertResult {
  uuid: ['uuid', string];
}
export interface SelectResult {
  rows: Row[];
}
export interface CountResult {
  count: number;
}
export type OperationResult = InsertResult | SelectResult | CountResult | Record<string, never>;

/** The result type that matches each operation. */
export type ResultOf<O extends Operation> = O extends InsertOp
  ? InsertResult
  : O extends SelectOp
    ? SelectResult
    : O extends UpdateOp | MutateOp | DeleteOp
      ? CountResult
      : Record<string, never>;

export type ResultsOf<T extends readonly Operation[]> = { [K in keyof T]: T[K] extends Operation ? ResultOf<T[K]> : never };

function checkName(what: string, v: string): void {
  if (typeof v !== 'string' || v === '') throw new NetloomError('INVALID_ARGUMENT', `${what} must be a non-empty string`, { field: what });
}

// ---- conditions ----

export function cond(column: string, fn: ConditionFunction, value: PlainValue): Condition {
  checkName('column', column);
  return [column, fn, toDatum(value, column)];
}

/** `[column, "==", value]` */
export function eq(column: string, value: PlainValue): Condition {
  return cond(column, '==', value);
}

/** `["_uuid", "==", ["uuid", U]]` */
export function byUuid(u: string): Condition {
  return ['_uuid', '==', uuid(u)];
}

// ---- mutations ----

export function mutation(column: string, mutator: Mutator, value: PlainValue): Mutation {
  checkName('column', column);
  return [column, mutator, toDatum(value, column)];
}

// ---- operations ----

export function insert(table: string, row: Readonly<Record<string, PlainValue>>, uuidName?: string): InsertOp {
  checkName('table', table);
  const op: InsertOp = { op: 'insert', table, row: toRow(row) };
  if (uuidName !== undefined) {
    namedUuid(uuidName); // validates the name
    op['uuid-name'] = uuidName;
  }
  return op;
}

export function select(table: string, where: Condition[] = [], columns?: string[]): SelectOp {
  checkName('table', table);
  return columns === undefined ? { op: 'select', table, where } : { op: 'select', table, where, columns };
}

export function update(table: string, where: Condition[], row: Readonly<Record<string, PlainValue>>): UpdateOp {
  checkName('table', table);
  return { op: 'update', table, where, row: toRow(row) };
}

export function mutate(table: string, where: Condition[], mutations: Mutation[]): MutateOp {
  checkName('table', table);
  if (mutations.length === 0) throw new NetloomError('INVALID_ARGUMENT', 'mutate needs at least one mutation', { field: 'mutations' });
  return { op: 'mutate', table, where, mutations };
}

export function del(table: string, where: Condition[]): DeleteOp {
  checkName('table', table);
  return { op: 'delete', table, where };
}

/**
 * Wait until the rows matching `where` (projected on `columns`) are (`==`) or are not (`!=`)
 * exactly `rows`. With timeout 0 this is a guard: the transaction fails with "timed out" at once
 * unless the database already is in the expected state (optimistic concurrency control).
 */
export function wait(
  table: string,
  where: Condition[],
  columns: string[],
  until: '==' | '!=',
  rows: ReadonlyArray<Readonly<Record<string, PlainValue>>>,
  timeoutMs?: number,
): WaitOp {
  checkName('table', table);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 0)) {
    throw new NetloomError('INVALID_ARGUMENT', `wait timeout must be a non-negative integer (ms), got ${timeoutMs}`, { field: 'timeout' });
  }
  const op: WaitOp = { op: 'wait', table, where, columns, until, rows: rows.map((r) => toRow(r)) };
  if (timeoutMs !== undefined) op.timeout = timeoutMs;
  return op;
}

export function commit(durable: boolean): CommitOp {
  return { op: 'commit', durable };
}

export function abort(): AbortOp {
  return { op: 'abort' };
}

export function comment(text: string): CommentOp {
  return { op: 'comment', comment: text };
}

export function assertLock(lock: string): AssertOp {
  checkName('lock', lock);
  return { op: 'assert', lock };
}
