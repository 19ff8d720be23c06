/**
 * How a client proves who it is to netmaster's REST API, and the small JSON file that says where
 * a netmaster is and which credentials to use with it (the lab writes one per lab, netctl reads
 * it; docs/security.md):
 *
 *   {"netmaster": "https://10.213.0.254:13051", "netmasters": [...every replica's URL...],
 *    "cacert": "/path/ca.crt", "cert": "/path/admin.crt", "key": "/path/admin.key", "token": "..."}
 *
 * Every field is optional; file paths are read when the credentials are loaded.
 */
import { readFileSync } from 'node:fs';
import { NetloomError } from './errors';

/** TLS material and a bearer token, all optional. */
export interface RestCredentials {
  /** CA to verify the server's certificate (default: the system's) */
  ca?: Buffer;
  /** client certificate and key (mutual TLS) */
  cert?: Buffer;
  key?: Buffer;
  /** sent as `Authorization: Bearer <token>` */
  token?: string;
}

/** The credentials file as stored (paths, not contents). */
export interface ClientConfig {
  /** the URL to use when none is given */
  netmaster?: string;
  /** every URL these credentials are meant for (the lab lists all its replicas) */
  netmasters?: string[];
  cacert?: string;
  cert?: string;
  key?: string;
  token?: string;
}

const FIELDS: Record<keyof ClientConfig, 'string' | 'list'> = {
  netmaster: 'string',
  netmasters: 'list',
  cacert: 'string',
  cert: 'string',
  key: 'string',
  token: 'string',
};

/** Parse a credentials file's text; a wrong shape is INVALID_ARGUMENT naming the field. */
export function parseClientConfig(text: string, where: string): ClientConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new NetloomError('INVALID_ARGUMENT', `${where} is not JSON: ${(e as Error).message}`, { field: 'config' });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new NetloomError('INVALID_ARGUMENT', `${where} must hold a JSON object`, { field: 'config' });
  const out: ClientConfig = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!Object.hasOwn(FIELDS, k)) continue; // unknown keys: newer versions may add some
    const kind = FIELDS[k as keyof ClientConfig];
    if (kind === 'list') {
      if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string'))
        throw new NetloomError('INVALID_ARGUMENT', `${where}: ${k} must be a list of strings`, { field: k });
      out.netmasters = v;
    } else {
      if (typeof v !== 'string') throw new NetloomError('INVALID_ARGUMENT', `${where}: ${k} must be a string`, { field: k });
      (out as Record<string, string>)[k] = v;
    }
  }
  return out;
}

function readPart(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new NetloomError('INVALID_ARGUMENT', `cannot read ${field} ${path}: ${(e as Error).message}`, { field });
  }
}

/** Read the files a config (or flags) names into credentials. `cert` and `key` go together. */
export function loadCredentials(c: Pick<ClientConfig, 'cacert' | 'cert' | 'key' | 'token'>): RestCredentials {
  if ((c.cert === undefined) !== (c.key === undefined))
    throw new NetloomError('INVALID_ARGUMENT', 'a client certificate needs its key (cert and key go together)', {
      field: c.cert === undefined ? 'cert' : 'key',
    });
  return {
    ...(c.cacert ? { ca: readPart(c.cacert, 'cacert') } : {}),
    ...(c.cert ? { cert: readPart(c.cert, 'cert') } : {}),
    ...(c.key ? { key: readPart(c.key, 'key') } : {}),
    ...(c.token ? { token: c.token } : {}),
  };
}
