/** The hand-written OCI image layout (deploy/lab/cri/oci-image.ts): what `ctr images import` reads, byte for byte stable. */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { extract, type Header } from 'tar-stream';
import { isNetloomError } from '../../../../lib/errors';
import {
  CONTAINERD_NAME_ANNOTATION,
  imageTag,
  layerTar,
  MEDIA_CONFIG,
  MEDIA_LAYER,
  MEDIA_MANIFEST,
  ociArchive,
  OCI_REF_ANNOTATION,
  type ImageDefinition,
} from '../../../../deploy/lab/cri/oci-image';
import { agnhostEntries, imageCacheKey, pauseEntries } from '../../../../deploy/lab/cri/images';

/** Every entry of a tarball: header and content. */
async function untar(buf: Buffer): Promise<Array<{ header: Header; data: Buffer }>> {
  const x = extract();
  const out: Array<{ header: Header; data: Buffer }> = [];
  const done = (async () => {
    for await (const entry of x) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(Buffer.from(c as Uint8Array));
      out.push({ header: entry.header, data: Buffer.concat(chunks) });
    }
  })();
  x.end(buf);
  await done;
  return out;
}

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const bin = Buffer.from('#!fake binary\n');
const def: ImageDefinition = {
  name: 'netloom.local/agnhost:1.0',
  entries: agnhostEntries(bin, Buffer.from('busybox')),
  entrypoint: ['/agnhost'],
  cmd: ['serve'],
};

describe('lab images: the OCI image layout writer', () => {
  it('the layer: entries sorted, owned by root, dated the epoch, with modes and symlinks', async () => {
    const entries = await untar(await layerTar(def.entries));
    const names = entries.map((e) => e.header.name);
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('bin/') && names.includes('tmp/') && names.includes('agnhost'));
    for (const e of entries) {
      assert.equal(e.header.uid, 0);
      assert.equal(e.header.gid, 0);
      assert.equal(e.header.mtime?.getTime(), 0);
    }
    const agnhost = entries.find((e) => e.header.name === 'agnhost');
    assert.equal(agnhost?.header.mode, 0o755);
    assert.deepEqual(agnhost?.data, bin);
    const sh = entries.find((e) => e.header.name === 'bin/sh');
    assert.equal(sh?.header.type, 'symlink');
    assert.equal(sh?.header.linkname, 'busybox');
    assert.equal(entries.find((e) => e.header.name === 'tmp/')?.header.mode, 0o1777);
  });

  it('the archive: oci-layout, index.json naming the image for containerd, blobs named by their digests', async () => {
    const a = await ociArchive(def);
    const files = new Map((await untar(a.archive)).map((e) => [e.header.name, e.data]));
    assert.deepEqual(JSON.parse(files.get('oci-layout')?.toString() ?? ''), { imageLayoutVersion: '1.0.0' });
    for (const [name, data] of files)
      if (name.startsWith('blobs/sha256/') && data.length > 0) assert.equal(digest(data), `sha256:${name.slice(13)}`);
    const index = JSON.parse(files.get('index.json')?.toString() ?? '') as {
      manifests: Array<{ digest: string; mediaType: string; platform: unknown; annotations: Record<string, string> }>;
    };
    assert.equal(index.manifests.length, 1);
    const m = index.manifests[0]!;
    assert.equal(m.digest, a.manifestDigest);
    assert.equal(m.mediaType, MEDIA_MANIFEST);
    assert.deepEqual(m.platform, { architecture: 'amd64', os: 'linux' });
    assert.equal(m.annotations[CONTAINERD_NAME_ANNOTATION], 'netloom.local/agnhost:1.0');
    assert.equal(m.annotations[OCI_REF_ANNOTATION], '1.0');
    const manifest = JSON.parse(files.get(`blobs/sha256/${a.manifestDigest.slice(7)}`)?.toString() ?? '') as {
      config: { digest: string; mediaType: string; size: number };
      layers: Array<{ digest: string; mediaType: string; size: number }>;
    };
    assert.equal(manifest.config.digest, a.configDigest);
    assert.equal(manifest.config.mediaType, MEDIA_CONFIG);
    assert.deepEqual(
      manifest.layers.map((l) => [l.digest, l.mediaType]),
      [[a.layerDigest, MEDIA_LAYER]],
    );
    const layer = files.get(`blobs/sha256/${a.layerDigest.slice(7)}`)!;
    assert.equal(manifest.layers[0]?.size, layer.length);
    const config = JSON.parse(files.get(`blobs/sha256/${a.configDigest.slice(7)}`)?.toString() ?? '') as {
      os: string;
      architecture: string;
      config: { Entrypoint: string[]; Cmd: string[] };
      rootfs: { type: string; diff_ids: string[] };
    };
    assert.deepEqual([config.os, config.architecture], ['linux', 'amd64']);
    assert.deepEqual(config.config.Entrypoint, ['/agnhost']);
    assert.deepEqual(config.config.Cmd, ['serve']);
    // an uncompressed layer's diff ID is its own digest
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [a.layerDigest] });
  });

  it('is deterministic: the same files give the same bytes, another file another digest', async () => {
    const a = await ociArchive(def);
    const b = await ociArchive({ ...def, entries: [...def.entries].reverse() });
    assert.deepEqual(a.archive, b.archive);
    const c = await ociArchive({ ...def, entries: pauseEntries(bin) });
    assert.notEqual(c.manifestDigest, a.manifestDigest);
  });

  for (const bad of ['/abs', 'a/../b', 'a//b', '', './x']) {
    it(`refuses the path "${bad}" naming entries.path`, async () => {
      await assert.rejects(
        layerTar([{ kind: 'file', path: bad, mode: 0o644, content: bin }]),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'entries.path',
      );
    });
  }

  it('refuses a path twice', async () => {
    await assert.rejects(
      layerTar([
        { kind: 'dir', path: 'x', mode: 0o755 },
        { kind: 'file', path: 'x', mode: 0o644, content: bin },
      ]),
      /appears twice/,
    );
  });

  it('an image reference tag, latest when none', () => {
    assert.equal(imageTag('netloom.local/pause:1.0'), '1.0');
    assert.equal(imageTag('localhost:5000/pause'), 'latest');
    assert.equal(imageTag('pause'), 'latest');
  });

  it('the cache key follows the source, the Go version and busybox', () => {
    const k = imageCacheKey(Buffer.from('src'), 'go1.19', Buffer.from('bb'));
    assert.equal(k, imageCacheKey(Buffer.from('src'), 'go1.19', Buffer.from('bb')));
    assert.notEqual(k, imageCacheKey(Buffer.from('src2'), 'go1.19', Buffer.from('bb')));
    assert.notEqual(k, imageCacheKey(Buffer.from('src'), 'go1.20', Buffer.from('bb')));
    assert.notEqual(k, imageCacheKey(Buffer.from('src'), 'go1.19', Buffer.from('bb2')));
  });
});
