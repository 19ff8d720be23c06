/**
 * The id of an endpoint: the same function netmaster's CreateEndpoint and an agent allocating from
 * its own blocks use (issue 15), so that a retry, a registration and a later CreateEndpoint of the
 * same attachment all name one endpoint. An empty idempotency key gets a random id (no retry can
 * name it again).
 */
import { createHash, randomBytes } from 'node:crypto';

export function endpointId(netKey: string, idempotencyKey: string): string {
  if (idempotencyKey === '') return randomBytes(12).toString('hex');
  return createHash('sha256').update(`${netKey}\0${idempotencyKey}`).digest('hex').slice(0, 24);
}
