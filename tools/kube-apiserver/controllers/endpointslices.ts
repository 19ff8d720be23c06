/** placeholder: the EndpointSlice controller (next commit) */
import type { Logger } from '../../../lib/logger';
import type { Registry } from '../registry';
import type { ObjectStore } from '../store';

export interface Controller {
  stop(): Promise<void>;
}

export async function startEndpointSliceController(_o: { store: ObjectStore; registry: Registry; logger: Logger }): Promise<Controller> {
  return { stop: async () => undefined };
}
