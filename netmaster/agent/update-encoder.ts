/**
 * Desired-state updates encoded once per object, not once per stream. View objects are shared by
 * every view that holds them (host-view.ts builds each message once per stored object), so a rule
 * change that reaches a thousand hosts carries one policy object a thousand times: it is encoded
 * once (kept by object identity), and each stream's message is assembled from those bytes. A
 * snapshot is assembled the same way from its objects' bytes. The bytes are exactly the protobuf
 * encoding of the same DesiredStateUpdate (a unit test decodes both and compares), so clients see
 * no difference; the server hands them to gRPC as they are (see `serializeUpdate`).
 */
import protobuf from 'protobufjs';
import { agentProtoPath } from '../../proto/loader';
import type { Change } from '../../proto/gen/netloom/v1/Change';
import type { DesiredStateUpdate } from '../../proto/gen/netloom/v1/DesiredStateUpdate';
import type { HostState } from './host-view';

/** A length-delimited field's tag. */
const ld = (field: number): number => (field << 3) | 2;
const varint = (field: number): number => field << 3;

/** HostState's repeated fields and their numbers and element types (agent.proto). */
const STATE_LISTS = [
  ['tenants', 2, 'Tenant'],
  ['networks', 3, 'Network'],
  ['groups', 4, 'EndpointGroup'],
  ['policies', 5, 'Policy'],
  ['profiles', 6, 'NetProfile'],
  ['endpoints', 7, 'Endpoint'],
  ['vteps', 8, 'Vtep'],
  ['services', 10, 'ServiceLB'],
  ['blocks', 11, 'AddressBlock'],
  ['kubePolicies', 12, 'KubeNetworkPolicy'],
  ['kubeNamespaces', 13, 'KubeNamespace'],
] as const;

const SNAPSHOT_REASONS: Record<string, number> = { INITIAL: 0, COMPACTED: 1, RESYNC: 2 };

export class UpdateEncoder {
  private readonly types = new Map<string, protobuf.Type>();
  private readonly bytes = new WeakMap<object, Uint8Array>();
  /** objects encoded (misses of the cache), for tests and metrics */
  encoded = 0;

  constructor() {
    const root = protobuf.loadSync(agentProtoPath());
    for (const name of ['Change', 'Global', 'BgpConfig', ...STATE_LISTS.map((l) => l[2])])
      this.types.set(name, root.lookupType(`netloom.v1.${name}`));
  }

  /** The encoding of `obj` as message `type`, once per object. */
  private encode(type: string, obj: object): Uint8Array {
    let b = this.bytes.get(obj);
    if (!b) {
      const t = this.types.get(type)!;
      b = t.encode(t.fromObject(obj as Record<string, unknown>)).finish();
      this.bytes.set(obj, b);
      this.encoded++;
    }
    return b;
  }

  /** A group's (or part of a group's) changes: DesiredStateUpdate{revision, changes{changes, commit}}. */
  changes(revision: string, changes: readonly Change[], commit: boolean): Buffer {
    const w = protobuf.Writer.create();
    w.uint32(varint(1)).int64(revision);
    w.uint32(ld(5)).fork();
    for (const c of changes) w.uint32(ld(1)).bytes(this.encode('Change', c));
    if (commit) w.uint32(varint(2)).bool(true);
    w.ldelim();
    return Buffer.from(w.finish());
  }

  /** One snapshot (part): DesiredStateUpdate{revision, snapshot{reason, state, more}}. */
  snapshot(revision: string, reason: 'INITIAL' | 'COMPACTED' | 'RESYNC', state: HostState, more: boolean): Buffer {
    const w = protobuf.Writer.create();
    w.uint32(varint(1)).int64(revision);
    w.uint32(ld(2)).fork();
    const r = SNAPSHOT_REASONS[reason] ?? 0;
    if (r !== 0) w.uint32(varint(1)).int32(r);
    w.uint32(ld(2)).fork();
    if (state.global) w.uint32(ld(1)).bytes(this.encode('Global', state.global));
    for (const [field, num, type] of STATE_LISTS)
      for (const o of (state[field] ?? []) as object[]) w.uint32(ld(num)).bytes(this.encode(type, o));
    if (state.bgp) w.uint32(ld(9)).bytes(this.encode('BgpConfig', state.bgp));
    w.ldelim();
    if (more) w.uint32(varint(3)).bool(true);
    w.ldelim();
    return Buffer.from(w.finish());
  }
}

/**
 * The WatchDesiredState response serializer: bytes made by UpdateEncoder go out as they are,
 * anything else through gRPC's own serializer.
 */
export function serializeUpdate(fallback: (u: DesiredStateUpdate) => Buffer): (u: DesiredStateUpdate | Buffer) => Buffer {
  return (u) => (Buffer.isBuffer(u) ? u : fallback(u));
}
