/** runIfMain: a benchmark run by itself prints a NetloomError as one line, any other failure with its stack. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const STANDALONE = resolve(__dirname, '../../../bench/support/standalone.js');
const ERRORS = resolve(__dirname, '../../../lib/errors.js');

function runScript(body: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nl-standalone-'));
  try {
    const file = join(dir, 'bench.js');
    writeFileSync(
      file,
      `const { runIfMain } = require(${JSON.stringify(STANDALONE)});\nconst { NetloomError } = require(${JSON.stringify(ERRORS)});\nrunIfMain(module, async () => { ${body} });\n`,
    );
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('bench runIfMain', () => {
  it('a NetloomError is one line naming the problem, exit 1', () => {
    const r = runScript(`throw new NetloomError('CONFLICT', 'another dataplane benchmark is running (pid 7)');`);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'error: another dataplane benchmark is running (pid 7)\n');
  });

  it('any other failure keeps its stack, exit 1; a returned code is the exit code', () => {
    const r = runScript(`throw new Error('boom');`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error: boom\n\s+at /);
    assert.equal(runScript('return 3;').status, 3);
  });
});
