/**
 * Where a lab (bin/netloom-lab) keeps the files its clients read: one directory per lab under a
 * root. Shared by the lab (deploy/lab/plan.ts) and netctl, which finds a lab's netmaster and
 * credentials from the lab's name (`--lab NAME` or env NETLOOM_LAB) alone. Pure.
 */
import { join } from 'node:path';

export const DEFAULT_LAB_ROOT = '/run/netloom-lab';
export const DEFAULT_LAB = 'netloom';
/** netctl's client config (lib/rest-credentials.ts) in a lab's directory */
export const LAB_CLIENT_CONFIG = 'netctl.json';
/** first line: the URL of the lab's first netmaster */
export const LAB_NETMASTER_URL = 'netmaster.url';

const NAME_RE = /^[a-z][a-z0-9]{0,5}$/;

/** A lab name the lab accepts: `netloom`, or 1-6 lowercase letters or digits starting with a letter. */
export function isLabName(name: string): boolean {
  return name === DEFAULT_LAB || NAME_RE.test(name);
}

export function labDir(root: string, name: string): string {
  return join(root, name);
}

export function labClientConfigFile(root: string, name: string): string {
  return join(labDir(root, name), LAB_CLIENT_CONFIG);
}

export function labNetmasterUrlFile(root: string, name: string): string {
  return join(labDir(root, name), LAB_NETMASTER_URL);
}
