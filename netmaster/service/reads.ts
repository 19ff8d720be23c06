/**
 * What inspect and the consistency check need of the service: its reads and the one repair they
 * may do. A narrow contract, so that those two depend on it and not on NetmasterService itself.
 */
import type { Endpoint, ObjectOf, ObjectType } from '../model/schemas';
import type { EtcdKV } from '../store/kv';
import type { StoredObject } from '../store/intent-store';
import type { RealizationReads } from './realization';

export interface ServiceReads {
  readonly kv: EtcdKV;
  get<T extends ObjectType>(type: T, key: string): Promise<StoredObject<ObjectOf[T]> & { key: string }>;
  list<T extends ObjectType>(type: T): Promise<Array<StoredObject<ObjectOf[T]> & { key: string }>>;
  getEndpoint(id: string): Promise<Endpoint>;
  listEndpoints(filter?: { network?: string; host?: string }): Promise<Endpoint[]>;
  endpointsIn(kind: 'net' | 'grp', key: string): Promise<Endpoint[]>;
  deleteEndpoint(id: string): Promise<{ deleted: boolean }>;
  currentRevision(): Promise<string>;
  /** realization on the hosts, when the agent side runs here */
  readonly realization?: RealizationReads | undefined;
}
