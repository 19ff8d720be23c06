/**
 * The client's TLS material (ClientTls) read from PEM files: netplugin's --tls-ca/--tls-cert/
 * --tls-key and the agent simulator's per-host certificates. A file that cannot be read is an
 * INVALID_ARGUMENT naming the option it came from.
 */
import { readFileSync } from 'node:fs';
import { NetloomError, errorMessage } from '../../lib/errors';
import type { ClientTls } from './client';

export interface ClientTlsFiles {
  ca: string;
  /** this agent's certificate and key (both or neither) */
  cert?: string | undefined;
  key?: string | undefined;
}

function read(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new NetloomError('INVALID_ARGUMENT', `${field}: cannot read ${path}: ${errorMessage(e)}`, { field });
  }
}

/** Read the files; `fields` names the options they came from in errors (default tls-ca, tls-cert, tls-key). */
export function readClientTls(files: ClientTlsFiles, fields = { ca: 'tls-ca', cert: 'tls-cert', key: 'tls-key' }): ClientTls {
  if ((files.cert === undefined) !== (files.key === undefined))
    throw new NetloomError('INVALID_ARGUMENT', `${fields.cert} and ${fields.key} go together`, { field: fields.cert });
  return {
    ca: read(files.ca, fields.ca),
    ...(files.cert !== undefined && files.key !== undefined
      ? { cert: read(files.cert, fields.cert), key: read(files.key, fields.key) }
      : {}),
  };
}
