/**
 * The Oper part of a kind's inspect: a function of the stored object registered by kind name
 * (oper/index.ts). Kinds without one show what the store keeps as their oper.
 */
import type { ObjectOf, ObjectType } from '../../model/schemas';
import type { ServiceReads } from '../reads';

export type KindOper<T extends ObjectType> = (
  svc: ServiceReads,
  key: string,
  config: ObjectOf[T],
  stored: Record<string, unknown>,
) => Promise<Record<string, unknown>>;
