/**
 * REST authentication and roles (docs/security.md). Once any credential is configured (a token or
 * a client CA) every route needs one, reads included (`/metrics`, the watch stream, inspect,
 * trace, the internal agent-query route); only `GET /healthz` stays open for probes. Who asks:
 *
 * - `Authorization: Bearer <token>`: the admin token or the read-only token. A header that is
 *   present must be right (no falling back to a certificate);
 * - else a client certificate verified against the client CA: its subject O gives the role
 *   (`netloom:admin`, `netloom:read-only`; `netloom:netmaster` or netmaster's own certificate: a
 *   replica). Host certificates have no REST role.
 *
 * What each role may do: admin everything; read-only GET/HEAD and `POST /api/v1/trace/` (a trace
 * changes nothing); a replica only `POST /api/v1/internal/agent-query/` (queries forwarded to the
 * replica that holds an agent). Refusals are 401 UNAUTHENTICATED (no or bad credentials) or 403
 * PERMISSION_DENIED (a role that may not), decided before the body is read.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import { NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { roleOfCertificate, type RestRole } from '../auth/identity';

export interface RestAuthOptions {
  /** tokens of the admin role */
  adminTokens?: readonly string[];
  /** tokens of the read-only role */
  readOnlyTokens?: readonly string[];
  /** the server asks for client certificates (it was given a client CA) */
  clientCertificates?: boolean;
  /** fingerprints of netmaster's own certificates (they are replicas) */
  own?: ReadonlySet<string>;
  logger?: Logger;
}

export type Need = 'open' | 'read' | 'replica' | 'admin';

export const OPEN_PATHS = new Set(['/healthz']);
export const INTERNAL_PATHS = new Set(['/api/v1/internal/agent-query/']);
const READ_POSTS = new Set(['/api/v1/trace/']);

/** What a request needs (pure). Paths are matched as express routes them (with or without the trailing slash). */
export function needOf(method: string, path: string): Need {
  const p = path.endsWith('/') ? path : `${path}/`;
  const bare = p.slice(0, -1);
  const read = method === 'GET' || method === 'HEAD';
  if (read && (OPEN_PATHS.has(bare) || OPEN_PATHS.has(p))) return 'open';
  if (INTERNAL_PATHS.has(p)) return 'replica';
  if (read || (method === 'POST' && READ_POSTS.has(p))) return 'read';
  return 'admin';
}

export function allows(role: RestRole, need: Need): boolean {
  if (need === 'open' || role === 'admin') return true;
  if (role === 'read-only') return need === 'read';
  return need === 'replica';
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Whether any credential is configured (else the API is open: `--insecure`). */
export function authEnabled(o: RestAuthOptions): boolean {
  return (o.adminTokens?.length ?? 0) > 0 || (o.readOnlyTokens?.length ?? 0) > 0 || o.clientCertificates === true;
}

/** The express middleware; a no-op when no credential is configured. */
export function restAuth(o: RestAuthOptions): (req: Request, res: Response, next: NextFunction) => void {
  const tokens: Array<{ hash: Buffer; role: RestRole }> = [
    ...(o.adminTokens ?? []).map((t) => ({ hash: digest(t), role: 'admin' as const })),
    ...(o.readOnlyTokens ?? []).map((t) => ({ hash: digest(t), role: 'read-only' as const })),
  ];
  const enabled = authEnabled(o);
  const own = o.own ?? new Set<string>();
  const tokenRole = (header: string): RestRole | undefined => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const given = digest(m[1]!);
    // compare with every token (no early exit): the time does not tell which one is close
    let role: RestRole | undefined;
    for (const t of tokens) if (timingSafeEqual(given, t.hash)) role ??= t.role;
    return role;
  };
  const certRole = (req: Request): RestRole | undefined => {
    if (!o.clientCertificates) return undefined;
    const sock = req.socket as Partial<TLSSocket>;
    if (!sock.encrypted || !sock.authorized || typeof sock.getPeerCertificate !== 'function') return undefined;
    return roleOfCertificate(sock.getPeerCertificate(), own);
  };
  return (req, res, next) => {
    if (!enabled) return next();
    const need = needOf(req.method, req.path);
    if (need === 'open') return next();
    const header = req.headers.authorization;
    const role = header !== undefined ? tokenRole(header) : certRole(req);
    if (role === undefined) {
      o.logger?.warn(
        { method: req.method, path: req.path, from: req.socket.remoteAddress, token: header !== undefined },
        'REST refused: unauthenticated',
      );
      res.setHeader('WWW-Authenticate', 'Bearer');
      return next(
        new NetloomError(
          'UNAUTHENTICATED',
          header !== undefined
            ? 'the bearer token is not valid'
            : "authentication required: Authorization: Bearer <token>, or a client certificate of netmaster's client CA",
        ),
      );
    }
    if (!allows(role, need)) {
      o.logger?.warn({ method: req.method, path: req.path, from: req.socket.remoteAddress, role }, 'REST refused: role');
      return next(new NetloomError('PERMISSION_DENIED', `role ${role} may not ${req.method} ${req.path}`));
    }
    next();
  };
}
