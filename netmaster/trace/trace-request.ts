/**
 * The body of `POST /api/v1/trace/` (netctl trace): which tenant, from and to which endpoint
 * (its id, container name or id, or IP address in the tenant), the protocol and, for TCP and
 * UDP, the destination port. Every bad field is a 400 naming it.
 */
import { z } from 'zod';
import { NetloomError } from '../../lib/errors';
import { parseWith } from '../../lib/validation';

const port = (field: string) =>
  z
    .number({ error: `${field} must be a number` })
    .int({ error: `${field} must be an integer` })
    .min(1, { error: `${field} must be 1..65535` })
    .max(65535, { error: `${field} must be 1..65535` });

/** The request body's schema (also the OpenAPI description's). */
export const traceRequestSchema = z.object({
  tenant: z.string({ error: 'tenant is required' }).min(1, { error: 'tenant is required' }),
  from: z.string({ error: 'from is required (an endpoint id, container name or IP)' }).min(1, { error: 'from is required' }),
  to: z.string({ error: 'to is required (an endpoint id, container name or IP)' }).min(1, { error: 'to is required' }),
  protocol: z.preprocess(
    (v) => (typeof v === 'string' ? v.toLowerCase() : v),
    z.enum(['tcp', 'udp', 'icmp'], { error: 'protocol must be tcp, udp or icmp' }),
  ),
  port: port('port').optional(),
  srcPort: port('srcPort').optional(),
  /** include ofproto/trace's own output in each hop */
  raw: z.boolean({ error: 'raw must be true or false' }).default(false),
});

export type TraceQuery = z.output<typeof traceRequestSchema>;

export function parseTraceQuery(body: unknown): TraceQuery {
  const q = parseWith(traceRequestSchema, body, { what: 'trace', rootField: 'body' });
  if (q.protocol === 'icmp' && q.port !== undefined)
    throw new NetloomError('INVALID_ARGUMENT', 'port is for tcp and udp, not icmp', { field: 'port' });
  if (q.protocol === 'icmp' && q.srcPort !== undefined)
    throw new NetloomError('INVALID_ARGUMENT', 'srcPort is for tcp and udp, not icmp', { field: 'srcPort' });
  if (q.protocol !== 'icmp' && q.port === undefined)
    throw new NetloomError('INVALID_ARGUMENT', `port is required for ${q.protocol}`, { field: 'port' });
  return q;
}
