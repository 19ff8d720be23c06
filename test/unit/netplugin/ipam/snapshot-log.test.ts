import { strict as assert } from 'node:assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastSnapshot, logLine, SnapshotLog } from '../../../../netplugin/ipam/snapshot-log';

describe('ipam: the snapshot log', () => {
  let dir: string;
  let path: string;
  const logs: SnapshotLog[] = [];
  const make = (maxBytes?: number): SnapshotLog => {
    const l = new SnapshotLog(path, maxBytes);
    logs.push(l);
    return l;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'netloom-snapshot-log-'));
    path = join(dir, 'sub', 'state.json');
  });
  afterEach(async () => {
    for (const l of logs.splice(0)) await l.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rewrites the file at its first write, then appends: the last snapshot is the one read', async () => {
    const log = make();
    assert.equal(log.readText(), undefined, 'no file yet');
    for (let i = 0; i < 5; i++) await log.write(JSON.stringify({ n: i }));
    assert.equal(log.rewrites, 1);
    const text = readFileSync(path, 'utf8');
    assert.equal(text.split('\n').length, 6, 'five lines');
    assert.equal(lastSnapshot(text), '{"n":4}');
  });

  it('a line cut short or damaged gives the snapshot before it', () => {
    const good = logLine('{"n":1}');
    assert.equal(lastSnapshot(good + logLine('{"n":2}').slice(0, 12)), '{"n":1}', 'torn tail');
    assert.equal(lastSnapshot(good + logLine('{"n":2}').replace('"n":2', '"n":3')), '{"n":1}', 'checksum mismatch');
    assert.equal(lastSnapshot(good + logLine('{"n":2}').slice(0, -1)), '{"n":1}', 'no newline yet: not whole');
    assert.equal(lastSnapshot(''), undefined);
    assert.equal(lastSnapshot('garbage\n'), undefined);
    assert.equal(lastSnapshot('{\n "version": 1\n}'), '{\n "version": 1\n}', 'a plain JSON document (the format before) is one snapshot');
  });

  it('a new process never appends after a torn tail: its first write starts a fresh file', async () => {
    await make().write('{"n":1}');
    appendFileSync(path, logLine('{"n":2}').slice(0, 10));
    const next = make();
    assert.equal(lastSnapshot(next.readText() ?? ''), '{"n":1}');
    await next.write('{"n":3}');
    await next.write('{"n":4}');
    assert.equal(readFileSync(path, 'utf8'), logLine('{"n":3}') + logLine('{"n":4}'));
  });

  it('starts a fresh file when it grows past its limit (at least 16 snapshots between rewrites)', async () => {
    const log = make(100);
    const snap = JSON.stringify({ pad: 'x'.repeat(40) });
    for (let i = 0; i < 40; i++) await log.write(snap);
    assert.equal(log.rewrites, 3, 'rewrites at writes 1, 17 and 33');
    assert.ok(statSync(path).size <= 16 * logLine(snap).length);
    assert.equal(lastSnapshot(readFileSync(path, 'utf8')), snap);
  });

  it('a failed write rejects, and the next one starts a fresh file', async () => {
    const log = make();
    await log.write('{"n":1}');
    await log.close();
    rmSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub'), 'a file where the directory was');
    await assert.rejects(log.write('{"n":2}'), /ENOTDIR|EEXIST/);
    rmSync(join(dir, 'sub'));
    await log.write('{"n":3}');
    await log.write('{"n":4}');
    assert.equal(readFileSync(path, 'utf8'), logLine('{"n":3}') + logLine('{"n":4}'));
  });
});
