/** `netctl version`: client and server version in Contiv's layout (server from `GET /version`). */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { asObject, type JsonObject } from '../client';
import { action, outputOption, type Runtime } from '../context';
import { toJson, toYaml } from '../format';

export interface VersionInfo {
  Version: string;
  GitCommit: string;
  BuildTime: string;
}

/** This netctl's version: package.json's version; commit and build time from the environment if set. */
export function clientVersion(env: Record<string, string | undefined>): VersionInfo {
  let version = '';
  for (const p of [path.resolve(__dirname, '../../../package.json'), path.resolve(__dirname, '../../package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'netloom' && typeof pkg.version === 'string') {
        version = pkg.version;
        break;
      }
    } catch {
      // try the next location (dist/netctl/commands vs netctl/commands)
    }
  }
  return { Version: version, GitCommit: env['NETLOOM_GIT_COMMIT'] ?? '', BuildTime: env['NETLOOM_BUILD_TIME'] ?? '' };
}

export function versionText(v: VersionInfo | JsonObject): string {
  const o = v as Record<string, unknown>;
  const s = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
  return `Version: ${s('Version')}\nGitCommit: ${s('GitCommit')}\nBuildTime: ${s('BuildTime')}\n`;
}

export function registerVersion(program: Command, rt: Runtime): void {
  outputOption(program.command('version').description('Version Information')).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const mine = clientVersion(rt.io.env);
      const c = client();
      if (opts['output'] === 'json' || opts['output'] === 'yaml') {
        const server = asObject(await c.get('/version'));
        const data = { client: mine, server };
        out(opts['output'] === 'yaml' ? toYaml(data) : toJson(data));
        return;
      }
      out(`Client Version:\n${versionText(mine)}\n`);
      const server = asObject(await c.get('/version'));
      out(`Server Version:\n${versionText(server)}`);
    }),
  );
}
