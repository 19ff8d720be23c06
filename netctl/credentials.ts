/**
 * Which credentials netctl presents to netmaster, found the way the netmaster URL is
 * (docs/security.md):
 *
 * 1. flags `--cacert`, `--cert`/`--key`, `--token`;
 * 2. env `NETMASTER_CACERT`, `NETMASTER_CERT`/`NETMASTER_KEY`, `NETMASTER_AUTH_TOKEN`;
 * 3. a client config file (lib/rest-credentials.ts): `--config FILE` or env `NETCTL_CONFIG`;
 *    else the one a lab wrote (`/run/netloom-lab/<lab>/netctl.json`): with a URL given (flag or
 *    env NETMASTER) the lab whose netmasters include that URL (the named lab's first), without one
 *    the named lab's (`--lab NAME` or env NETLOOM_LAB; it must exist), else the default lab's.
 *
 * Each field comes from the first source that has it (a certificate together with its key).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LAB, DEFAULT_LAB_ROOT, isLabName, LAB_CLIENT_CONFIG } from '../lib/lab-paths';
import { loadCredentials, parseClientConfig, type ClientConfig, type RestCredentials } from '../lib/rest-credentials';
import { UsageError } from './errors';

export { DEFAULT_LAB, DEFAULT_LAB_ROOT };
export const CONFIG_FILE_NAME = LAB_CLIENT_CONFIG;

export interface CredentialSources {
  flags: { config?: string; cacert?: string; cert?: string; key?: string; token?: string; lab?: string };
  env: Record<string, string | undefined>;
  /** where labs keep their state (default env NETLOOM_LAB_ROOT, else /run/netloom-lab) */
  labRoot?: string;
}

const trimUrl = (u: string): string => u.replace(/\/+$/, '');

function readConfig(path: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the netctl config ${path}: ${(e as Error).message}`, 'config');
  }
  try {
    return parseClientConfig(text, path);
  } catch (e) {
    throw new UsageError((e as Error).message, 'config');
  }
}

/** A lab's config, or undefined when it has none or it cannot be read (a lab going away). */
function labConfig(path: string): ClientConfig | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return parseClientConfig(readFileSync(path, 'utf8'), path);
  } catch {
    return undefined;
  }
}

/** The lab named by `--lab` or env NETLOOM_LAB (checked), else undefined. */
export function namedLab(src: Pick<CredentialSources, 'flags' | 'env'>): string | undefined {
  const lab = src.flags.lab ?? (src.env['NETLOOM_LAB'] || undefined);
  if (lab === undefined) return undefined;
  if (!isLabName(lab)) {
    throw new UsageError(
      `invalid lab name '${lab.slice(0, 64)}': ${DEFAULT_LAB}, or 1-6 lowercase letters or digits starting with a letter`,
      'lab',
    );
  }
  return lab;
}

/** Where labs keep their directories. */
export function labRootOf(src: Pick<CredentialSources, 'env' | 'labRoot'>): string {
  return src.labRoot ?? src.env['NETLOOM_LAB_ROOT'] ?? DEFAULT_LAB_ROOT;
}

/**
 * The config file that applies: the one named by --config / NETCTL_CONFIG, else the lab's for
 * `url`, else the named lab's (--lab / NETLOOM_LAB), else the default lab's.
 */
export function findClientConfig(src: CredentialSources, url: string | undefined): ClientConfig | undefined {
  const named = src.flags.config ?? src.env['NETCTL_CONFIG'];
  if (named) return readConfig(named);
  const root = labRootOf(src);
  const lab = namedLab(src);
  const own = join(root, lab ?? DEFAULT_LAB, CONFIG_FILE_NAME);
  if (url === undefined) {
    const config = labConfig(own);
    if (lab !== undefined && config === undefined)
      throw new UsageError(`lab '${lab}' has no netctl config ${own} (is it up? bin/netloom-lab --lab ${lab} up)`, 'lab');
    return config;
  }
  let labs: string[] = [];
  try {
    labs = readdirSync(root).sort();
  } catch {
    return undefined;
  }
  const paths = [own, ...labs.filter((l) => l !== (lab ?? DEFAULT_LAB)).map((l) => join(root, l, CONFIG_FILE_NAME))];
  for (const p of paths) {
    const c = labConfig(p);
    const urls = [...(c?.netmasters ?? []), ...(c?.netmaster ? [c.netmaster] : [])].map(trimUrl);
    if (c && urls.includes(trimUrl(url))) return c;
  }
  return undefined;
}

/** Merge flags, env and config (first source wins per field) and read the files. */
export function resolveCredentials(src: CredentialSources, config: ClientConfig | undefined): RestCredentials {
  const f = src.flags;
  const e = src.env;
  const pair =
    f.cert || f.key
      ? { cert: f.cert, key: f.key }
      : e['NETMASTER_CERT'] || e['NETMASTER_KEY']
        ? { cert: e['NETMASTER_CERT'], key: e['NETMASTER_KEY'] }
        : { cert: config?.cert, key: config?.key };
  const cacert = f.cacert ?? e['NETMASTER_CACERT'] ?? config?.cacert;
  const token = f.token ?? e['NETMASTER_AUTH_TOKEN'] ?? config?.token;
  try {
    return loadCredentials({
      ...(cacert ? { cacert } : {}),
      ...(pair.cert ? { cert: pair.cert } : {}),
      ...(pair.key ? { key: pair.key } : {}),
      ...(token ? { token } : {}),
    });
  } catch (err) {
    throw new UsageError((err as Error).message, (err as { field?: string }).field);
  }
}
