/**
 * Loading netloom's gRPC contract at run time (@grpc/proto-loader). The TypeScript types of its
 * messages are generated into proto/gen by `npm run proto:gen` (a unit test checks they are current).
 */
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './gen/agent';

/** proto/netloom/agent.proto, found from the source tree or from dist/. */
export function agentProtoPath(): string {
  for (const p of [resolve(__dirname, 'netloom/agent.proto'), resolve(__dirname, '../../proto/netloom/agent.proto')])
    if (existsSync(p)) return p;
  throw new Error('proto/netloom/agent.proto not found');
}

/** Options that match the generated types: camelCase fields, int64 as strings, enums as names, defaults filled. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

let cached: ProtoGrpcType | undefined;
export function loadAgentProto(): ProtoGrpcType {
  cached ??= grpc.loadPackageDefinition(protoLoader.loadSync(agentProtoPath(), LOADER_OPTIONS)) as unknown as ProtoGrpcType;
  return cached;
}
