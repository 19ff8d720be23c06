/**
 * The etcd key layout: every key netmaster writes, in one place (docs/state.md describes it).
 * Numbers are zero-padded and addresses hex-encoded so that key order is numeric order, which
 * the allocators' cursor scans rely on.
 */
import type { ObjectType } from '../model/schemas';

export const ROOT = '/netloom/v1/';

/** A network's encapsulation: each has its own tag space. */
export type Encap = 'vlan' | 'vxlan' | 'bgp';

export const layout = {
  root: ROOT,
  /** intent objects: value `{config, oper}` */
  cfgPrefix: (type: ObjectType) => `${ROOT}cfg/${type}/`,
  cfg: (type: ObjectType, key: string) => `${ROOT}cfg/${type}/${key}`,
  /** the intent objects of every type (`cfgRoot() + type + '/' + key`) */
  cfgRoot: () => `${ROOT}cfg/`,
  /** endpoints by id: value is the Endpoint JSON */
  epPrefix: () => `${ROOT}ep/`,
  ep: (id: string) => `${ROOT}ep/${id}`,
  /** endpoint indexes, value empty: by network key and by group key */
  epByNetPrefix: (netKey: string) => `${ROOT}idx/ep-net/${netKey}/`,
  epByNet: (netKey: string, id: string) => `${ROOT}idx/ep-net/${netKey}/${id}`,
  epByGrpPrefix: (grpKey: string) => `${ROOT}idx/ep-grp/${grpKey}/`,
  epByGrp: (grpKey: string, id: string) => `${ROOT}idx/ep-grp/${grpKey}/${id}`,
  /** VLAN ids, VNIs and routed (`bgp`) networks' ids: value is the owning network key */
  tagPrefix: (encap: Encap) => `${ROOT}alloc/${encap}/`,
  tag: (encap: Encap, tag: number) => `${ROOT}alloc/${encap}/${pad(tag, 8)}`,
  /** IPv4 addresses per network: value is the endpoint id or `gateway` */
  ipPrefix: (netKey: string) => `${ROOT}alloc/ip/${netKey}/`,
  ip: (netKey: string, addr: number) => `${ROOT}alloc/ip/${netKey}/${addr.toString(16).padStart(8, '0')}`,
  /** where the next IP search in a network starts (a hint, never compared) */
  ipHint: (netKey: string) => `${ROOT}hint/ip/${netKey}`,
  /** MAC addresses: value is the endpoint id */
  macPrefix: () => `${ROOT}alloc/mac/`,
  mac: (mac: string) => `${ROOT}alloc/mac/${mac}`,
  /** endpoint group ids: value is the group key */
  groupIdPrefix: () => `${ROOT}alloc/groupid/`,
  groupId: (id: number) => `${ROOT}alloc/groupid/${pad(id, 8)}`,
};

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** The number at the end of an allocation key (`.../00000100` is 100; hex for IP keys). */
export function numberOfKey(key: string, hex = false): number {
  const last = key.slice(key.lastIndexOf('/') + 1);
  return hex ? parseInt(last, 16) : Number(last);
}

/** The exclusive end of the key range holding every key that starts with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] ?? 0) < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = (out[i] ?? 0) + 1;
      return out;
    }
  }
  return Buffer.from([0]);
}

export const GROUP_ID_RANGE: [number, number] = [1, 65535];
