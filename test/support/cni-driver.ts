/**
 * The Go CNI driver of test/cni-driver/ (libcni, as a runtime uses it), built once per source: the
 * binary is cached under /tmp/netloom-cni-driver/<sha256 of main.go>/, so a second run of the
 * conformance test does not wait for `go build`. Needs Debian's golang-go and
 * golang-github-appc-cni-dev (deploy/install.sh installs both).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../../lib/exec';

/** test/cni-driver/ of the repository (this file runs from dist/test/support/). */
export const CNI_DRIVER_SRC = resolve(__dirname, '../../../test/cni-driver');
const CACHE = '/tmp/netloom-cni-driver';

/** Path of the built driver, building it when this source has no binary yet. */
export async function cniDriver(): Promise<string> {
  const hash = createHash('sha256')
    .update(readFileSync(join(CNI_DRIVER_SRC, 'main.go')))
    .digest('hex')
    .slice(0, 16);
  const bin = join(CACHE, hash, 'cni-driver');
  if (existsSync(bin)) return bin;
  mkdirSync(CACHE, { recursive: true });
  // built in a directory of its own, then renamed into place: a concurrent build never sees half a binary
  const tmp = mkdtempSync(join(CACHE, 'build-'));
  try {
    // GOPATH mode builds a directory only as `.` (an absolute path is an "absolute import")
    const r = await run('sh', ['-c', 'cd "$1" && exec go build -o "$2" .', 'sh', CNI_DRIVER_SRC, join(tmp, 'cni-driver')], {
      env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOCACHE: join(CACHE, 'gocache'), GOFLAGS: '' },
      allowFailure: true,
      timeoutMs: 300_000,
    });
    if (r.code !== 0)
      throw new Error(`go build of ${CNI_DRIVER_SRC} failed (golang-go and golang-github-appc-cni-dev installed?): ${r.stderr}`);
    mkdirSync(join(CACHE, hash), { recursive: true });
    renameSync(join(tmp, 'cni-driver'), bin);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}
