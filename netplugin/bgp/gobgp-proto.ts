/**
 * GoBGP v3's gRPC contract (service apipb.GobgpApi), loaded at run time from the `.proto` files the
 * install extracts into proto/gobgp/ (Debian's golang-github-osrg-gobgp-dev; not in git). Two views
 * of the same files: @grpc/proto-loader for the service, and a protobufjs Root for the messages
 * that travel packed in `google.protobuf.Any` (path attributes, NLRIs), which proto-loader leaves as
 * bytes.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import { NetloomError } from '../../lib/errors';

const FILES = ['gobgp.proto', 'attribute.proto', 'capability.proto'];

/** proto/gobgp/, found from the source tree or from dist/. */
export function gobgpProtoDir(): string {
  for (const d of [resolve(__dirname, '../../proto/gobgp'), resolve(__dirname, '../../../proto/gobgp')])
    if (existsSync(resolve(d, 'gobgp.proto'))) return d;
  throw new NetloomError('UNAVAILABLE', 'proto/gobgp/gobgp.proto not found (deploy/install.sh extracts it)');
}

/** camelCase fields, 64-bit integers as strings, enums as names, defaults filled (like proto/loader.ts). */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

/** The client constructor of apipb.GobgpApi. */
export type GobgpApiClientCtor = grpc.ServiceClientConstructor;

let service: GobgpApiClientCtor | undefined;
export function gobgpServiceCtor(): GobgpApiClientCtor {
  if (!service) {
    const dir = gobgpProtoDir();
    const def = protoLoader.loadSync(FILES, { ...LOADER_OPTIONS, includeDirs: [dir] });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { apipb: { GobgpApi: GobgpApiClientCtor } };
    service = pkg.apipb.GobgpApi;
  }
  return service;
}

let root: protobuf.Root | undefined;
/** The message types of the proto files, for packing and unpacking `Any` values. */
export function gobgpRoot(): protobuf.Root {
  if (!root) {
    const dir = gobgpProtoDir();
    const r = new protobuf.Root();
    // imports are written relative to the api directory ("gobgp.proto"); well-known types are built in
    r.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : resolve(dir, target));
    r.loadSync(FILES.map((f) => resolve(dir, f)));
    r.resolveAll();
    root = r;
  }
  return root;
}
