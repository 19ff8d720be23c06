/**
 * The id of an endpoint: the same (network, idempotency key) always maps to the same id, so that
 * netmaster (CreateEndpoint) and an agent allocating from its own address block (issue 15) mint
 * the same id for the same request, and a retried registration finds its endpoint. An empty key
 * gets a random id.
 */
import { createHash, randomBytes } from 'node:crypto';

export function endpointId(netKey: string, idempotencyKey: string): string {
  if (idempotencyKey === '') return randomBytes(12).toString('hex');
  return createHash('sha256').update(`${netKey}\0${idempotencyKey}`).digest('hex').slice(0, 24);
}
