/**
 * The benchmark runner: `npm run bench -- <name> [args...]` runs `node dist/bench/run.js <name>`,
 * which loads the module `bench/<name>.ts` and calls its `run(args)`. A benchmark prints its figures
 * and, as its LAST line, one line of JSON with the results. Add a benchmark by adding a module that
 * exports `run`; `npm run bench` with no name lists them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runIfMain } from './support/standalone';

export interface BenchModule {
  /** one line saying what it measures (shown in the list) */
  description?: string;
  run(args: string[]): Promise<void>;
}

const NOT_BENCHMARKS = new Set(['run']);

/** Names of the benchmark modules next to this file. */
export function listBenchmarks(dir = __dirname): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js') && !f.includes('.test.'))
    .map((f) => f.slice(0, -3))
    .filter((n) => !NOT_BENCHMARKS.has(n) && /^[a-z][a-z0-9-]*$/.test(n))
    .filter((n) => {
      const m = loadModule(n, dir);
      return m !== undefined;
    })
    .sort();
}

function loadModule(name: string, dir: string): BenchModule | undefined {
  const file = join(dir, `${name}.js`);
  if (!existsSync(file)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- benchmarks are chosen by name at run time
  const mod = require(file) as Partial<BenchModule>;
  return typeof mod.run === 'function' ? (mod as BenchModule) : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    const names = listBenchmarks();
    process.stdout.write(`usage: npm run bench -- <name> [args]\nbenchmarks:\n${names.map((n) => `  ${n}${describe(n)}`).join('\n')}\n`);
    return name === undefined ? 2 : 0;
  }
  if (!/^[a-z][a-z0-9-]*$/.test(name) || NOT_BENCHMARKS.has(name)) {
    process.stderr.write(`bad benchmark name "${name}"\n`);
    return 2;
  }
  const mod = loadModule(name, __dirname);
  if (!mod) {
    process.stderr.write(`no benchmark "${name}" (known: ${listBenchmarks().join(', ') || 'none'})\n`);
    return 2;
  }
  await mod.run(rest);
  return 0;
}

function describe(name: string): string {
  const d = loadModule(name, __dirname)?.description;
  return d ? `  ${d}` : '';
}

runIfMain(module, main);
