/** docs/pipeline.md is what tools/gen-pipeline-doc.ts makes of the declarations: it cannot drift from the code. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PIPELINE_DOC, pipelineDoc } from '../../../tools/gen-pipeline-doc';
import { PIPELINE } from '../../../netplugin/pipeline/tables';

// dist/test/unit/pipeline -> the repository root
const ROOT = resolve(__dirname, '..', '..', '..', '..');

describe('docs/pipeline.md', () => {
  it('is what the generator gives (run `npm run docs:pipeline` after changing the pipeline)', () => {
    assert.equal(readFileSync(resolve(ROOT, PIPELINE_DOC), 'utf8'), pipelineDoc());
  });

  it('names every table with its number and purpose', () => {
    const doc = pipelineDoc();
    for (const t of PIPELINE) assert.ok(doc.includes(`| ${t.id} | ${t.name} | ${t.purpose.replace(/\|/g, '\\|')} |`), t.name);
  });
});
