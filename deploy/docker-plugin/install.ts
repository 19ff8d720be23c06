/**
 * `node dist/deploy/docker-plugin/install.js [--remove] [--agent-socket-dir DIR]`: build netloom's
 * managed plugin and create + enable it on the dockerd the docker client reaches (DOCKER_HOST);
 * prints the plugin's name. `--remove`: disable and remove it. See docs/orchestrators.md.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, NetloomError } from '../../lib/errors';
import { installPlugin, removePlugin } from './managed-plugin';

const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

export async function main(argv: string[]): Promise<number> {
  let remove = false;
  let agentSocketDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--remove') remove = true;
    else if (argv[i] === '--agent-socket-dir' && argv[i + 1] !== undefined) agentSocketDir = argv[++i];
    else
      throw new NetloomError('INVALID_ARGUMENT', `unknown argument ${argv[i] ?? ''} (--remove, --agent-socket-dir DIR)`, { field: 'argv' });
  }
  const env = { ...process.env };
  if (remove) {
    await removePlugin({ env, docker: DOCKER });
    return 0;
  }
  const buildDir = mkdtempSync(join(tmpdir(), 'netloom-plugin-'));
  try {
    const name = await installPlugin({ env, docker: DOCKER, buildDir, ...(agentSocketDir !== undefined ? { agentSocketDir } : {}) });
    process.stdout.write(`${name}\n`);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`netloom plugin install: ${errorMessage(e)}\n`);
      process.exitCode = 1;
    },
  );
}
