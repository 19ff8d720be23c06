/**
 * Which netmaster netctl talks to: `--netmaster URL`, else env NETMASTER, else the client config's
 * (credentials.ts: --config, NETCTL_CONFIG or the lab's netctl.json), else the URL the lab wrote
 * into /run/netloom-lab/netloom/netmaster.url, else Contiv's default http://netmaster:9999.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors';

export const DEFAULT_NETMASTER = 'http://netmaster:9999';
export const LAB_NETMASTER_URL_FILE = '/run/netloom-lab/netloom/netmaster.url';

export interface NetmasterUrlSources {
  flag?: string | undefined;
  env?: string | undefined;
  /** the client config file's `netmaster` */
  config?: string | undefined;
  /** file holding the URL (first line); ignored when absent or empty */
  urlFile?: string | undefined;
}

function readUrlFile(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    const first = readFileSync(path, 'utf8').split('\n')[0]?.trim();
    return first ? first : undefined;
  } catch {
    return undefined;
  }
}

/** The base URL (no trailing slash); a URL that is not http(s) is a usage error, as in Contiv. */
export function resolveNetmasterUrl(src: NetmasterUrlSources): string {
  const url = src.flag || src.env || src.config || readUrlFile(src.urlFile) || DEFAULT_NETMASTER;
  if (!/^https?:\/\/[^/\s]+/.test(url)) {
    throw new UsageError(`invalid netmaster URL '${url}': must begin with http:// or https://`, 'netmaster');
  }
  return url.replace(/\/+$/, '');
}
