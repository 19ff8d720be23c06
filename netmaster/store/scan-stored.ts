/**
 * Every intent object and endpoint in etcd checked at one revision (stored-values.ts): the
 * values netmaster cannot serve, for the consistency check. The scan also puts the shared list
 * of bad values right (bad-values.ts): what it finds is reported, what it finds good or gone is
 * cleared, so the log and the metric follow a repair done by hand in etcd.
 */
import type { BadValue } from './bad-values';
import type { EtcdKV } from './kv';
import { layout } from './layout';
import { kindOfKey, problemOf, TOO_LARGE_TO_RECEIVE } from './stored-values';

export async function scanStoredValues(kv: EtcdKV, revision: string): Promise<BadValue[]> {
  const found: BadValue[] = [];
  const seen = new Set<string>();
  for (const prefix of [layout.cfgRoot(), layout.epPrefix()]) {
    const { kvs, skipped } = await kv.list(prefix, { revision });
    for (const key of skipped ?? []) {
      seen.add(key);
      found.push({ key, kind: kindOfKey(key), reason: TOO_LARGE_TO_RECEIVE });
    }
    for (const { key, value } of kvs) {
      seen.add(key);
      const p = problemOf(key, value);
      if (p) {
        kv.badValues.report(p.key, p.kind, p.reason);
        found.push({ key: p.key, kind: p.kind, reason: p.reason });
      } else kv.badValues.clear(key);
    }
  }
  for (const b of kv.badValues.list()) {
    const ours = b.key.startsWith(layout.cfgRoot()) || b.key.startsWith(layout.epPrefix());
    if (ours && !seen.has(b.key)) kv.badValues.clear(b.key);
  }
  return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Whether an allocation or index key (or an endpoint) may belong to one of the `bad` values: it
 * names the bad object's or endpoint's key in its value or its path. The consistency check sees
 * such keys as leaked (their owner is skipped) but must not repair them away: the owner may only
 * fail a newer schema, and its tag, addresses and endpoints must survive until it is put right.
 */
export function belongsToBad(finding: { key: string; value: string }, bad: readonly BadValue[]): boolean {
  for (const b of bad) {
    const owner = b.key.startsWith(layout.epPrefix())
      ? b.key.slice(layout.epPrefix().length)
      : b.key.slice(b.key.indexOf('/', layout.cfgRoot().length) + 1);
    if (owner === '') continue;
    if (finding.value === owner || finding.key.includes(`/${owner}/`) || finding.key.endsWith(`/${owner}`)) return true;
  }
  return false;
}
