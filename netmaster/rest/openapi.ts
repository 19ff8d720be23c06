/**
 * The OpenAPI 3 description of the REST API, generated from the kind descriptors (lib/kinds) and
 * their zod schemas: one component per object type and the Contiv paths for each collection.
 */
import { z } from 'zod';
import { ALL_KINDS } from '../../lib/kinds';
import { endpointRequestSchema, endpointSchema, schemas } from '../model/schemas';
import { traceRequestSchema } from '../trace/trace-request';

export function openApiDocument(version: string): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  const toSchema = (s: z.ZodType) => {
    const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete j.$schema;
    return j;
  };
  for (const [type, s] of Object.entries(schemas)) components[type] = toSchema(s);
  components.endpoint = toSchema(endpointSchema);
  components.endpointRequest = toSchema(endpointRequestSchema);
  components.traceRequest = toSchema(traceRequestSchema);
  components.error = {
    type: 'object',
    properties: { error: { type: 'string' }, field: { type: 'string' }, code: { type: 'string' } },
    required: ['error', 'code'],
  };
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: unknown) => ({ 'application/json': { schema } });
  const errors = {
    '400': { description: 'invalid input', content: json(ref('error')) },
    '404': { description: 'not found', content: json(ref('error')) },
    '409': { description: 'conflict or in use', content: json(ref('error')) },
  };
  const paths: Record<string, unknown> = {};
  for (const { collection: coll, type, readOnlySource } of ALL_KINDS) {
    paths[`/api/v1/${coll}/`] = {
      get: {
        summary: `list ${type}`,
        responses: { '200': { description: 'objects', content: json({ type: 'array', items: ref(type) }) } },
      },
    };
    const keyParam = [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }];
    const body = { required: true, content: json(ref(type)) };
    const read = { summary: `read ${type}`, responses: { '200': { description: 'object', content: json(ref(type)) }, ...errors } };
    paths[`/api/v1/${coll}/{key}/`] = readOnlySource
      ? { parameters: keyParam, get: { ...read, description: `read-only: the source is ${readOnlySource}` } }
      : {
          parameters: keyParam,
          get: read,
          post: {
            summary: `create or update ${type}`,
            requestBody: body,
            responses: { '200': { description: 'stored object', content: json(ref(type)) }, ...errors },
          },
          put: {
            summary: `create or update ${type}`,
            requestBody: body,
            responses: { '200': { description: 'stored object', content: json(ref(type)) }, ...errors },
          },
          delete: {
            summary: `delete ${type}`,
            responses: { '200': { description: 'the deleted key', content: json({ type: 'string' }) }, ...errors },
          },
        };
    paths[`/api/v1/inspect/${coll}/{key}/`] = {
      parameters: keyParam,
      get: {
        summary: `inspect ${type}`,
        responses: { '200': { description: '{Config, Oper}', content: json({ type: 'object' }) }, ...errors },
      },
    };
  }
  paths['/api/v1/endpoints/'] = {
    get: {
      summary: 'list endpoints',
      responses: { '200': { description: 'endpoints', content: json({ type: 'array', items: ref('endpoint') }) } },
    },
    post: {
      summary: 'create an endpoint (idempotent by idempotencyKey/containerID)',
      requestBody: { required: true, content: json(ref('endpointRequest')) },
      responses: { '200': { description: 'endpoint', content: json(ref('endpoint')) }, ...errors },
    },
  };
  paths['/api/v1/endpoints/{id}/'] = {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    get: { summary: 'read an endpoint', responses: { '200': { description: 'endpoint', content: json(ref('endpoint')) }, ...errors } },
    delete: {
      summary: 'delete an endpoint (idempotent)',
      responses: { '200': { description: 'the id', content: json({ type: 'string' }) } },
    },
  };
  paths['/api/v1/inspect/endpoints/{id}/'] = {
    get: { summary: 'inspect an endpoint', responses: { '200': { description: '{Config, Oper}' }, ...errors } },
  };
  paths['/api/v1/watch'] = {
    get: {
      summary:
        'server-sent events of changes after revision `since`: `change` events, and `skipped` ones ({revision, op, key, kind, reason}) for a change whose stored value cannot be served',
      parameters: [{ name: 'since', in: 'query', schema: { type: 'string' } }],
      responses: { '200': { description: 'text/event-stream' } },
    },
  };
  paths['/api/v1/trace/'] = {
    post: {
      summary: 'trace a packet between two endpoints on their hosts (ofproto/trace): verdict, deciding rule, hops',
      requestBody: { required: true, content: json(ref('traceRequest')) },
      responses: { '200': { description: '{verdict, decidedBy, droppedAt, decisions, hops}' }, ...errors },
    },
  };
  paths['/api/v1/consistency'] = {
    get: { summary: 'compare allocations with objects', responses: { '200': { description: 'report' } } },
    post: { summary: 'compare and repair', responses: { '200': { description: 'report' } } },
  };
  paths['/version'] = { get: { summary: 'version', responses: { '200': { description: 'version' } } } };
  paths['/healthz'] = {
    get: {
      summary: 'readiness: 200 while etcd answers',
      responses: { '200': { description: 'ok' }, '503': { description: 'etcd unavailable', content: json(ref('error')) } },
    },
  };
  paths['/info'] = { get: { summary: 'netmaster info', responses: { '200': { description: 'info' } } } };
  paths['/metrics'] = { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text' } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'netloom netmaster (Contiv-compatible)', version },
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}
