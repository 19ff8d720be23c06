/**
 * An OCI image as an image-layout tarball, written by hand (no registry, no image builder here):
 * one uncompressed layer, its config, a manifest and index.json naming the image, in the form
 * `ctr images import` reads. Deterministic: the same files give the same bytes and digests (every
 * time stamp is the epoch, owners are root, entries sorted), so a rebuilt image is the same image.
 * Pure apart from tar-stream's in-memory packing.
 */
import { createHash } from 'node:crypto';
import { pack, type Header } from 'tar-stream';
import { NetloomError } from '../../../lib/errors';

export const MEDIA_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_LAYER = 'application/vnd.oci.image.layer.v1.tar';
/** The annotation containerd's import takes the image's full name from. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';
/** The OCI layout's own name annotation (the tag). */
export const OCI_REF_ANNOTATION = 'org.opencontainers.image.ref.name';

/** One entry of the image's file system. */
export type ImageEntry =
  | { kind: 'file'; path: string; mode: number; content: Buffer }
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'symlink'; path: string; target: string };

export interface ImageDefinition {
  /** the full reference, e.g. `netloom.local/pause:1.0` */
  name: string;
  entries: ImageEntry[];
  entrypoint: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
}

export interface OciArchive {
  /** the image-layout tarball */
  archive: Buffer;
  /** `sha256:...` of the manifest (the image's digest) */
  manifestDigest: string;
  /** `sha256:...` of the config (the image's ID as the CRI shows it) */
  configDigest: string;
  /** `sha256:...` of the uncompressed layer (its diff ID) */
  layerDigest: string;
}

const EPOCH = new Date(0);

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** An image reference's tag (after the last `:` that follows the last `/`), or `latest`. */
export function imageTag(name: string): string {
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : 'latest';
}

/** Paths inside the image: relative, no `..`, no empty parts (checked, since they become tar names). */
function checkPath(path: string): string {
  const parts = path.split('/');
  if (path === '' || path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..'))
    throw new NetloomError('INVALID_ARGUMENT', `image path "${path}" must be relative, without empty, . or .. parts`, {
      field: 'entries.path',
    });
  return path;
}

/** Pack tar entries in order into one buffer (POSIX ustar/pax by tar-stream). */
export async function tarOf(entries: Array<{ header: Header | (Partial<Header> & { name: string }); data?: Buffer }>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.data !== undefined) p.entry(e.header, e.data, cb);
      else p.entry(e.header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The image's one layer: its entries sorted by path, owned by root, stamped with the epoch. */
export async function layerTar(entries: readonly ImageEntry[]): Promise<Buffer> {
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(checkPath(e.path)))
      throw new NetloomError('INVALID_ARGUMENT', `image path "${e.path}" appears twice`, { field: 'entries.path' });
    seen.add(e.path);
  }
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: EPOCH };
  return tarOf(
    sorted.map((e) => {
      if (e.kind === 'file')
        return { header: { ...owner, name: e.path, type: 'file', mode: e.mode, size: e.content.length }, data: e.content };
      if (e.kind === 'dir') return { header: { ...owner, name: `${e.path}/`, type: 'directory', mode: e.mode } };
      return { header: { ...owner, name: e.path, type: 'symlink', linkname: e.target, mode: 0o777 } };
    }),
  );
}

/** The image config (OCI image spec's config), for linux/amd64. */
export function imageConfig(def: ImageDefinition, layerDigest: string): Record<string, unknown> {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: def.entrypoint,
      ...(def.cmd ? { Cmd: def.cmd } : {}),
      Env: def.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      WorkingDir: def.workingDir ?? '/',
    },
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
    history: [{ created: EPOCH.toISOString(), created_by: 'netloom deploy/lab/cri/oci-image.ts' }],
  };
}

/** JSON as stored in a blob: compact, keys in the order given (the digest is of these bytes). */
function blob(o: unknown): Buffer {
  return Buffer.from(JSON.stringify(o));
}

/** The whole image-layout tarball of `def`. */
export async function ociArchive(def: ImageDefinition): Promise<OciArchive> {
  const layer = await layerTar(def.entries);
  const layerDigest = sha256(layer);
  const config = blob(imageConfig(def, layerDigest));
  const configDigest = sha256(config);
  const manifest = blob({
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    config: { mediaType: MEDIA_CONFIG, digest: configDigest, size: config.length },
    layers: [{ mediaType: MEDIA_LAYER, digest: layerDigest, size: layer.length }],
  });
  const manifestDigest = sha256(manifest);
  const index = blob({
    schemaVersion: 2,
    mediaType: MEDIA_INDEX,
    manifests: [
      {
        mediaType: MEDIA_MANIFEST,
        digest: manifestDigest,
        size: manifest.length,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { [CONTAINERD_NAME_ANNOTATION]: def.name, [OCI_REF_ANNOTATION]: imageTag(def.name) },
      },
    ],
  });
  const owner = { uid: 0, gid: 0, mtime: EPOCH, mode: 0o644 };
  const file = (name: string, data: Buffer) => ({ header: { ...owner, name, type: 'file' as const, size: data.length }, data });
  const dir = (name: string) => ({ header: { ...owner, name, type: 'directory' as const, mode: 0o755 } });
  const blobs = [
    [layerDigest, layer],
    [configDigest, config],
    [manifestDigest, manifest],
  ] as const;
  const archive = await tarOf([
    file('oci-layout', blob({ imageLayoutVersion: '1.0.0' })),
    file('index.json', index),
    dir('blobs/'),
    dir('blobs/sha256/'),
    ...blobs.map(([d, data]) => file(`blobs/sha256/${d.slice('sha256:'.length)}`, data)),
  ]);
  return { archive, manifestDigest, configDigest, layerDigest };
}
