/**
 * The OpenAPI v2 document in the protobuf form kubectl asks /openapi/v2 for (`Accept:
 * application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): gnostic's openapi_v2.Document.
 * Only the messages and fields the document uses are declared, with gnostic's field numbers;
 * vendor extensions travel as YAML text (Any.yaml), which is how kubectl reads them back.
 */
import protobuf from 'protobufjs';
import YAML from 'yaml';
import type { OpenApiDocument, PatchOperation, SchemaJson } from './document';

const root = protobuf.Root.fromJSON({
  nested: {
    openapi: {
      nested: {
        v2: {
          nested: {
            Document: {
              fields: {
                swagger: { type: 'string', id: 1 },
                info: { type: 'Info', id: 2 },
                paths: { type: 'Paths', id: 8 },
                definitions: { type: 'Definitions', id: 9 },
              },
            },
            Info: { fields: { title: { type: 'string', id: 1 }, version: { type: 'string', id: 2 } } },
            Paths: { fields: { path: { rule: 'repeated', type: 'NamedPathItem', id: 2 } } },
            NamedPathItem: { fields: { name: { type: 'string', id: 1 }, value: { type: 'PathItem', id: 2 } } },
            PathItem: { fields: { patch: { type: 'Operation', id: 8 } } },
            Operation: {
              fields: {
                description: { type: 'string', id: 3 },
                parameters: { rule: 'repeated', type: 'ParametersItem', id: 8 },
                vendorExtension: { rule: 'repeated', type: 'NamedAny', id: 13 },
              },
            },
            ParametersItem: { fields: { parameter: { type: 'Parameter', id: 1 } } },
            Parameter: { fields: { nonBodyParameter: { type: 'NonBodyParameter', id: 2 } } },
            NonBodyParameter: { fields: { queryParameterSubSchema: { type: 'QueryParameterSubSchema', id: 3 } } },
            QueryParameterSubSchema: {
              fields: {
                in: { type: 'string', id: 2 },
                description: { type: 'string', id: 3 },
                name: { type: 'string', id: 4 },
                type: { type: 'string', id: 6 },
                uniqueItems: { type: 'bool', id: 20 },
              },
            },
            Definitions: { fields: { additionalProperties: { rule: 'repeated', type: 'NamedSchema', id: 1 } } },
            NamedSchema: { fields: { name: { type: 'string', id: 1 }, value: { type: 'Schema', id: 2 } } },
            Schema: {
              fields: {
                ref: { type: 'string', id: 1 },
                format: { type: 'string', id: 2 },
                description: { type: 'string', id: 4 },
                additionalProperties: { type: 'AdditionalPropertiesItem', id: 21 },
                type: { type: 'TypeItem', id: 22 },
                items: { type: 'ItemsItem', id: 23 },
                properties: { type: 'Properties', id: 25 },
                vendorExtension: { rule: 'repeated', type: 'NamedAny', id: 31 },
              },
            },
            AdditionalPropertiesItem: { fields: { schema: { type: 'Schema', id: 1 } } },
            TypeItem: { fields: { value: { rule: 'repeated', type: 'string', id: 1 } } },
            ItemsItem: { fields: { schema: { rule: 'repeated', type: 'Schema', id: 1 } } },
            Properties: { fields: { additionalProperties: { rule: 'repeated', type: 'NamedSchema', id: 1 } } },
            NamedAny: { fields: { name: { type: 'string', id: 1 }, value: { type: 'Any', id: 2 } } },
            Any: { fields: { yaml: { type: 'string', id: 2 } } },
          },
        },
      },
    },
  },
});

const DocumentType = root.lookupType('openapi.v2.Document');

interface SchemaMessage {
  ref?: string;
  format?: string;
  description?: string;
  additionalProperties?: { schema: SchemaMessage };
  type?: { value: string[] };
  items?: { schema: SchemaMessage[] };
  properties?: { additionalProperties: Array<{ name: string; value: SchemaMessage }> };
  vendorExtension?: Array<{ name: string; value: { yaml: string } }>;
}

function toMessage(s: SchemaJson): SchemaMessage {
  const m: SchemaMessage = {};
  if (s.$ref) m.ref = s.$ref;
  if (s.format) m.format = s.format;
  if (s.description) m.description = s.description;
  if (s.type) m.type = { value: [s.type] };
  if (s.items) m.items = { schema: [toMessage(s.items)] };
  if (s.additionalProperties) m.additionalProperties = { schema: toMessage(s.additionalProperties) };
  if (s.properties)
    m.properties = { additionalProperties: Object.entries(s.properties).map(([name, v]) => ({ name, value: toMessage(v) })) };
  const ext = extensions(s);
  if (ext.length > 0) m.vendorExtension = ext;
  return m;
}

const extensions = (o: object): Array<{ name: string; value: { yaml: string } }> =>
  Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, v]) => ({ name, value: { yaml: YAML.stringify(v) } }));

function operationMessage(op: PatchOperation): object {
  return {
    description: op.description,
    parameters: op.parameters.map((p) => ({
      parameter: {
        nonBodyParameter: {
          queryParameterSubSchema: { in: p.in, description: p.description, name: p.name, type: p.type, uniqueItems: p.uniqueItems },
        },
      },
    })),
    vendorExtension: extensions(op),
  };
}

export function encodeOpenApi(doc: OpenApiDocument): Buffer {
  const msg = DocumentType.fromObject({
    swagger: doc.swagger,
    info: doc.info,
    paths: { path: Object.entries(doc.paths).map(([name, item]) => ({ name, value: { patch: operationMessage(item.patch) } })) },
    definitions: { additionalProperties: Object.entries(doc.definitions).map(([name, s]) => ({ name, value: toMessage(s) })) },
  });
  return Buffer.from(DocumentType.encode(msg).finish());
}
