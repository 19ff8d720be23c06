/**
 * Contiv's own netctl and client library (contivmodel/client, Go) as a caller. That client shows
 * the server's message only for HTTP 500 (Contiv answered every error with 500 and a text body):
 * a 4xx reaches its user as a bare "409 Conflict" or "Page not found!", and it takes a 404 on
 * DELETE for success. So a request from it gets its errors as 500 with the text netloom's own
 * netctl prints (lib/error-text.ts); every other caller keeps the 4xx JSON.
 *
 * Recognised by its request: Go's HTTP client (`User-Agent: Go-http-client/...`, which
 * contivmodel/client never changes) that does not ask for JSON (`Accept` absent or without
 * `application/json`). A Go program that wants netloom's 4xx JSON sends `Accept: application/json`.
 *
 * Its model also types an endpoint's `labels` as a string (Go's `map[k:v]` text) where netloom
 * serves an object: such a client gets the string (contivEndpointLabels).
 */
import type { Request } from 'express';
import { errorText } from '../../lib/error-text';
import { errorBody } from './errors';
import { compareStrings } from '../../lib/compare';

export function isContivClient(req: Pick<Request, 'headers'>): boolean {
  const ua = req.headers['user-agent'] ?? '';
  const accept = req.headers.accept ?? '';
  return /^Go-http-client\//.test(ua) && !/application\/json/i.test(accept);
}

/** The text body of an error for Contiv's client: the message, field and code, one line. */
export function contivErrorText(e: unknown): string {
  const b = errorBody(e);
  return `${errorText(b.error, b.field, b.code)}\n`;
}

/** Labels as Contiv's netmaster rendered them (`fmt.Sprintf("%s", map)`: `map[a:1 b:2]`, keys sorted). */
export function labelsText(labels: unknown): string {
  if (typeof labels === 'string') return labels;
  if (typeof labels !== 'object' || labels === null) return 'map[]';
  const entries = Object.entries(labels as Record<string, unknown>).sort(([a], [b]) => compareStrings(a, b));
  return `map[${entries.map(([k, v]) => `${k}:${String(v)}`).join(' ')}]`;
}

/**
 * A response body for Contiv's client: the `labels` of every endpoint in it (an object with an
 * `endpointID`, wherever it sits: Oper, a network's endpoints, a tenant's networks' endpoints,
 * a service's providers) as text. Other fields already have Contiv's types for everyone.
 */
export function contivEndpointLabels(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(contivEndpointLabels);
  if (typeof body !== 'object' || body === null) return body;
  const o = body as Record<string, unknown>;
  const isEndpoint = 'endpointID' in o;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = k === 'labels' && isEndpoint ? labelsText(v) : contivEndpointLabels(v);
  return out;
}
