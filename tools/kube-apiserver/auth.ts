/**
 * Bearer-token authentication from a kube-apiserver static token file (--token-auth-file: CSV
 * lines `token,user,uid[,"group1,group2"]`). Every known token acts as a cluster admin: RBAC
 * objects are stored and served, not enforced. A request without a known token gets 401.
 */
import { readFileSync } from 'node:fs';
import { NetloomError } from '../../lib/errors';

export interface User {
  name: string;
  uid: string;
  groups: string[];
}

/** Split one CSV line (double quotes group a field with commas). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

export function parseTokenFile(text: string, file = 'token file'): Map<string, User> {
  const users = new Map<string, User>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [token, name, uid, groups] = csvFields(line);
    if (!token || !name || uid === undefined)
      throw new NetloomError('INVALID_ARGUMENT', `${file}:${i + 1}: want token,user,uid[,"groups"]`, { field: 'token-auth-file' });
    users.set(token, { name, uid, groups: groups ? groups.split(',').filter((g) => g !== '') : [] });
  });
  return users;
}

export function loadTokenFile(path: string): Map<string, User> {
  return parseTokenFile(readFileSync(path, 'utf8'), path);
}

/** The user of an Authorization header, or undefined. */
export function authenticate(users: ReadonlyMap<string, User>, header: string | undefined): User | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? users.get(m[1] as string) : undefined;
}
