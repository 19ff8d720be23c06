/**
 * The OpenAPI v2 document of the served types, made from the client-node models (schema/models.ts)
 * with the extensions kubectl reads: x-kubernetes-group-version-kind on each served kind (kubectl
 * validates a manifest against its kind's schema: unknown fields, wrong types) and
 * x-kubernetes-patch-strategy / -merge-key on list and union fields (kubectl apply computes its
 * strategic merge patch from them). Definitions are named after the models.
 */
import { patchMeta } from '../patch/patch-meta';
import { apiVersionOf, RESOURCES } from '../resources';
import { modelFields, reachableModels, type FieldType } from '../schema/models';

export interface SchemaJson {
  $ref?: string;
  type?: string;
  format?: string;
  description?: string;
  items?: SchemaJson;
  additionalProperties?: SchemaJson;
  properties?: Record<string, SchemaJson>;
  [extension: `x-${string}`]: unknown;
}

/** A query parameter of an operation (only `dryRun` is published: kubectl 1.20 asks whether PATCH has it before a server dry run). */
export interface QueryParameter {
  name: string;
  in: 'query';
  type: 'string';
  description: string;
  uniqueItems: boolean;
}

export interface PatchOperation {
  description: string;
  parameters: QueryParameter[];
  'x-kubernetes-action': 'patch';
  'x-kubernetes-group-version-kind': { group: string; kind: string; version: string };
}

export interface OpenApiDocument {
  swagger: string;
  info: { title: string; version: string };
  /** one path per served kind: the object's own path, with its PATCH operation */
  paths: Record<string, { patch: PatchOperation }>;
  definitions: Record<string, SchemaJson>;
}

function schemaOf(t: FieldType): SchemaJson {
  switch (t.kind) {
    case 'primitive':
      return { type: t.type, ...(t.format ? { format: t.format } : {}) };
    case 'model':
      return { $ref: `#/definitions/${t.model}` };
    case 'array':
      return { type: 'array', items: schemaOf(t.items) };
    case 'map':
      return { type: 'object', additionalProperties: schemaOf(t.values) };
    case 'any':
      return {};
  }
}

export function buildOpenApi(version: string): OpenApiDocument {
  const gvk = new Map<string, Array<{ group: string; kind: string; version: string }>>();
  for (const r of RESOURCES) gvk.set(r.model, [...(gvk.get(r.model) ?? []), { group: r.group, kind: r.kind, version: r.version }]);
  const definitions: Record<string, SchemaJson> = {};
  for (const name of reachableModels(RESOURCES.map((r) => r.model))) {
    const properties: Record<string, SchemaJson> = {};
    for (const [field, t] of modelFields(name) ?? []) {
      const s = schemaOf(t);
      const meta = patchMeta(name, field);
      if (meta) {
        s['x-kubernetes-patch-strategy'] = meta.strategies.join(',');
        if (meta.mergeKey) s['x-kubernetes-patch-merge-key'] = meta.mergeKey;
      }
      properties[field] = s;
    }
    const def: SchemaJson = { type: 'object', properties };
    const kinds = gvk.get(name);
    if (kinds) def['x-kubernetes-group-version-kind'] = kinds;
    definitions[name] = def;
  }
  const paths: OpenApiDocument['paths'] = {};
  for (const r of RESOURCES) {
    const base = r.group ? `/apis/${apiVersionOf(r)}` : `/api/${r.version}`;
    paths[`${base}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`] = {
      patch: {
        description: `partially update the specified ${r.kind}`,
        parameters: [
          {
            name: 'dryRun',
            in: 'query',
            type: 'string',
            description: 'When present, indicates that modifications should not be persisted. Valid value: All',
            uniqueItems: true,
          },
        ],
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, kind: r.kind, version: r.version },
      },
    };
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version }, paths, definitions };
}
