/** Content negotiation: request bodies (JSON or YAML) and the Table form `kubectl get` asks for in Accept. */
import YAML from 'yaml';
import type { Json } from './json';
import { badRequest, notAcceptable, unsupportedMediaType } from './status';

/** The largest request body accepted (kube-apiserver's limit). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseMediaRanges(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const at = kv.indexOf('=');
      if (at > 0) p[kv.slice(0, at).trim()] = kv.slice(at + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

export type Representation = { kind: 'object' } | { kind: 'table'; apiVersion: string };

/** What a GET answers with: the Table form when Accept asks for meta.k8s.io Tables, else the object (JSON). */
export function representation(accept: string | undefined): Representation {
  const ranges = parseMediaRanges(accept);
  if (ranges.length === 0) return { kind: 'object' };
  for (const r of ranges) {
    if (r.type !== 'application/json') continue;
    if (r.params.as === 'Table' && (r.params.g ?? 'meta.k8s.io') === 'meta.k8s.io' && ['v1', 'v1beta1'].includes(r.params.v ?? 'v1'))
      return { kind: 'table', apiVersion: `meta.k8s.io/${r.params.v ?? 'v1'}` };
    if (r.params.as === undefined) return { kind: 'object' };
  }
  if (
    ranges.some(
      (r) =>
        r.type === '*/*' || r.type === 'application/*' || r.type === 'application/yaml' || r.type === 'application/vnd.kubernetes.protobuf',
    )
  )
    return { kind: 'object' };
  throw notAcceptable();
}

/** A request body parsed by its Content-Type (JSON by default; YAML accepted). */
export function parseBody(raw: Buffer, contentType: string | undefined): Json {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = raw.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    if (type === 'application/yaml') return YAML.parse(text) as Json;
    if (type === 'application/json' || type.endsWith('+json') || type === '') return JSON.parse(text) as Json;
  } catch (e) {
    throw badRequest(`couldn't decode the request body: ${e instanceof Error ? e.message : String(e)}`);
  }
  // protobuf bodies (client-go's default for some clients) included: the stand-in speaks JSON and YAML only
  throw unsupportedMediaType('application/json, application/yaml');
}
