/**
 * Strategic merge patch metadata: which list fields merge (by which key) and which maps keep only
 * the keys a patch names. The real server reads it from the Go struct tags (patchStrategy,
 * patchMergeKey) and publishes it in OpenAPI as x-kubernetes-patch-strategy / -merge-key; the
 * models we read types from (schema/models.ts) do not carry it, so it is listed here, per model
 * and JSON field, for every type the stand-in serves. A field not listed is replaced whole.
 */
import { fieldType, type FieldType } from '../schema/models';

export interface PatchMeta {
  /** 'merge': lists merge (by mergeKey, or as a set of primitives); 'retainKeys': a union whose other members a patch clears */
  strategies: ReadonlyArray<'merge' | 'retainKeys'>;
  mergeKey?: string;
}

const merge = (mergeKey?: string): PatchMeta => ({ strategies: ['merge'], ...(mergeKey ? { mergeKey } : {}) });
const mergeRetain = (mergeKey: string): PatchMeta => ({ strategies: ['merge', 'retainKeys'], mergeKey });
const retainKeys: PatchMeta = { strategies: ['retainKeys'] };

const containerLists = {
  ports: merge('containerPort'),
  env: merge('name'),
  volumeMounts: merge('mountPath'),
  volumeDevices: merge('devicePath'),
};
const conditions = { conditions: merge('type') };

/** model -> JSON field -> metadata (as tagged in k8s.io/api) */
const TABLE: Record<string, Record<string, PatchMeta>> = {
  V1ObjectMeta: { finalizers: merge(), ownerReferences: merge('uid') },
  V1PodSpec: {
    containers: merge('name'),
    initContainers: merge('name'),
    ephemeralContainers: merge('name'),
    volumes: mergeRetain('name'),
    imagePullSecrets: merge('name'),
    hostAliases: merge('ip'),
    topologySpreadConstraints: merge('topologyKey'),
    resourceClaims: mergeRetain('name'),
    schedulingGates: merge('name'),
  },
  V1Container: containerLists,
  V1EphemeralContainer: containerLists,
  V1PodStatus: { ...conditions, podIPs: merge('ip'), hostIPs: merge('ip'), resourceClaimStatuses: mergeRetain('name') },
  V1ServiceSpec: { ports: merge('port') },
  V1ServiceStatus: conditions,
  V1NodeSpec: { podCIDRs: merge() },
  V1NodeStatus: { ...conditions, addresses: merge('type') },
  V1NamespaceStatus: conditions,
  V1ServiceAccount: { secrets: merge('name') },
  V1DeploymentSpec: { strategy: retainKeys },
  V1DeploymentStatus: conditions,
  V1DaemonSetStatus: conditions,
};

/** The patch metadata of `field` in `model` (none: replaced whole). */
export function patchMeta(model: string | undefined, field: string): PatchMeta | undefined {
  return model === undefined ? undefined : TABLE[model]?.[field];
}

/** The model of a field's value (for maps: none; for lists: the element's), to walk a patch down. */
export function childModel(model: string | undefined, field: string): string | undefined {
  if (model === undefined) return undefined;
  const t: FieldType | undefined = fieldType(model, field);
  if (!t) return undefined;
  if (t.kind === 'model') return t.model;
  if (t.kind === 'array' && t.items.kind === 'model') return t.items.model;
  return undefined;
}
