/**
 * The lab's two local images, for containerd without a registry: `netloom.local/pause` (the
 * sandbox image containerd's `sandbox_image` names) and `netloom.local/agnhost` (a test image
 * serving TCP and UDP with its pod's name, with busybox for `kube exec`). Both hold one static Go
 * program, `nlpod/main.go`, built with CGO_ENABLED=0 and no module proxy.
 *
 * Built once per content (the program's source, the Go version and busybox) into a cache
 * directory, `<cache>/<key>/{nlpod,pause.tar,agnhost.tar}`, by `deploy/install.sh` or on first use;
 * a build goes to a temporary directory renamed into place, so builders running at once never
 * see half a cache entry.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../../../lib/exec';
import { ImageEntry, ociArchive } from './oci-image';

export const PAUSE_IMAGE = 'netloom.local/pause:1.0';
export const AGNHOST_IMAGE = 'netloom.local/agnhost:1.0';
/** the images by the short names `kube run-pod --image` takes */
export const LAB_IMAGES = { pause: PAUSE_IMAGE, agnhost: AGNHOST_IMAGE } as const;
export type LabImageName = keyof typeof LAB_IMAGES;

/** The program's source, from dist/deploy/lab/cri/ back to the repository. */
export const NLPOD_SOURCE = resolve(__dirname, '../../../../deploy/lab/cri/nlpod/main.go');
export const IMAGE_CACHE = process.env.NETLOOM_IMAGE_CACHE ?? '/var/cache/netloom/lab-images';
const BUSYBOX = '/bin/busybox';
/** busybox applets in the agnhost image (a shell and the network tools a user reaches for) */
export const AGNHOST_APPLETS = ['sh', 'ip', 'ping', 'nc', 'cat', 'ls', 'echo', 'sleep', 'hostname', 'ifconfig', 'route', 'wget', 'ps'];

export interface LabImageFiles {
  dir: string;
  nlpod: string;
  archives: Record<LabImageName, string>;
}

/** The files of the pause image (pure): the program as /pause, whose name selects its pause mode. */
export function pauseEntries(nlpod: Buffer): ImageEntry[] {
  return [{ kind: 'file', path: 'pause', mode: 0o755, content: nlpod }];
}

/** The files of the agnhost image (pure): the program as /agnhost, busybox and its applets, /etc and /tmp. */
export function agnhostEntries(nlpod: Buffer, busybox: Buffer): ImageEntry[] {
  return [
    { kind: 'file', path: 'agnhost', mode: 0o755, content: nlpod },
    { kind: 'dir', path: 'bin', mode: 0o755 },
    { kind: 'file', path: 'bin/busybox', mode: 0o755, content: busybox },
    ...AGNHOST_APPLETS.map((a): ImageEntry => ({ kind: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    { kind: 'dir', path: 'etc', mode: 0o755 },
    { kind: 'dir', path: 'tmp', mode: 0o1777 },
  ];
}

/** The cache key: what the images are made of (pure). */
export function imageCacheKey(source: Buffer, goVersion: string, busybox: Buffer): string {
  const h = createHash('sha256');
  for (const part of [source, Buffer.from(goVersion), busybox]) h.update(createHash('sha256').update(part).digest());
  return h.digest('hex').slice(0, 16);
}

function filesIn(dir: string): LabImageFiles {
  return { dir, nlpod: join(dir, 'nlpod'), archives: { pause: join(dir, 'pause.tar'), agnhost: join(dir, 'agnhost.tar') } };
}

/** The images' files, built now when the cache does not hold them for this content. */
export async function ensureLabImages(cache: string = IMAGE_CACHE): Promise<LabImageFiles> {
  const source = readFileSync(NLPOD_SOURCE);
  const busybox = readFileSync(BUSYBOX);
  const goVersion = (await run('go', ['version'])).stdout.trim();
  const dir = join(cache, imageCacheKey(source, goVersion, busybox));
  const files = filesIn(dir);
  if (existsSync(join(dir, 'done'))) return files;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const built = filesIn(tmp);
    // GO111MODULE=off: one file of the standard library, no module proxy; -trimpath and an empty
    // build id keep the binary the same for the same source and compiler
    await run('go', ['build', '-trimpath', '-ldflags=-s -w -buildid=', '-o', built.nlpod, NLPOD_SOURCE], {
      env: {
        ...process.env,
        CGO_ENABLED: '0',
        GO111MODULE: 'off',
        GOFLAGS: '',
        GOCACHE: join(tmp, 'gocache'),
        GOPATH: join(tmp, 'gopath'),
      },
      timeoutMs: 300_000,
    });
    for (const d of ['gocache', 'gopath']) rmSync(join(tmp, d), { recursive: true, force: true });
    const nlpod = readFileSync(built.nlpod);
    writeFileSync(
      built.archives.pause,
      (await ociArchive({ name: PAUSE_IMAGE, entries: pauseEntries(nlpod), entrypoint: ['/pause'] })).archive,
    );
    writeFileSync(
      built.archives.agnhost,
      (await ociArchive({ name: AGNHOST_IMAGE, entries: agnhostEntries(nlpod, busybox), entrypoint: ['/agnhost'], cmd: ['serve'] }))
        .archive,
    );
    writeFileSync(join(tmp, 'done'), `${new Date().toISOString()}\n`);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // another builder got there first: its entry is the same content
      if (!existsSync(join(dir, 'done'))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return files;
}

/** `node dist/deploy/lab/cri/images.js`: build the images now (deploy/install.sh) and print where. */
if (require.main === module) {
  ensureLabImages().then(
    (f) => process.stdout.write(`${f.dir}\n`),
    (e: unknown) => {
      process.stderr.write(`lab images: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
