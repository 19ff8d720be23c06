/**
 * Contiv's inspect output, `{Config, Oper}`: Oper computed by the kind's function registered in
 * oper/index.ts (a network's addresses, tags and endpoints; a group's id and endpoints; a
 * tenant's object counts; a policy's endpoints; the global tag usage), else the stored oper.
 * An endpoint's inspect adds its effective rules when the agent side runs (service/realization.ts).
 */
import { NetloomError } from '../../lib/errors';
import type { Endpoint, ObjectType } from '../model/schemas';
import { endpointOper, KIND_OPERS, type KindOper } from './oper';
import type { ServiceReads } from './reads';

/** `{Config, Oper}` for one object (NOT_FOUND when absent). */
export async function inspect(
  svc: ServiceReads,
  type: ObjectType,
  key: string,
): Promise<{ Config: Record<string, unknown>; Oper: Record<string, unknown> }> {
  const stored = await svc.get(type, key);
  const config = { key, ...(stored.config as Record<string, unknown>) };
  const operOf = KIND_OPERS[type] as KindOper<ObjectType> | undefined;
  const oper = operOf ? await operOf(svc, key, stored.config, stored.oper) : { ...stored.oper };
  return { Config: config, Oper: oper };
}

/**
 * One endpoint by id; as a convenience (scripts often only know the container), also by
 * container id or by a unique prefix of the endpoint id.
 */
export async function inspectEndpoint(
  svc: ServiceReads,
  id: string,
): Promise<{ Config: Record<string, unknown>; Oper: Record<string, unknown> }> {
  let ep: Endpoint | undefined = await svc.getEndpoint(id).catch((e: unknown) => {
    if (e instanceof NetloomError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  });
  if (!ep && id !== '') {
    const all = await svc.listEndpoints();
    const byContainer = all.filter((e) => e.containerID === id);
    const matches = byContainer.length > 0 ? byContainer : all.filter((e) => e.endpointID.startsWith(id));
    if (matches.length > 1) {
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `'${id}' matches ${matches.length} endpoints (${matches
          .slice(0, 5)
          .map((e) => e.endpointID)
          .join(', ')}): give the endpoint id`,
        { field: 'id' },
      );
    }
    ep = matches[0];
  }
  if (!ep) throw new NetloomError('NOT_FOUND', `endpoint ${id} does not exist`);
  const effectiveRules = await svc.realization?.effectiveRules(ep.endpointID);
  return {
    Config: { key: ep.endpointID, endpointID: ep.endpointID },
    Oper: { ...endpointOper(ep), ...(effectiveRules ? { effectiveRules } : {}) },
  };
}
