/**
 * How Docker options map onto netloom's tenant / network / endpoint group.
 *
 *   docker network create -d netloom --ipam-driver netloom \
 *     -o tenant=T -o network=N -o group=G            (driver options: CreateNetwork)
 *     --ipam-opt tenant=T --ipam-opt network=N       (IPAM options: RequestPool)
 *
 * Driver options arrive in CreateNetwork's Options["com.docker.network.generic"]; IPAM options in
 * RequestPool's Options. Docker passes neither the network's name nor its labels to a plugin, so
 * the netloom network name defaults to the IPAM pool's `network` option and, failing that, to the
 * 12-character short id Docker shows for the network. The tenant defaults to `default`.
 * Pure functions.
 */
import { NetloomError } from '../../lib/errors';
import { shown } from './limits';
import { GENERIC_OPTIONS_KEY } from './protocol';

export const DEFAULT_TENANT = 'default';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const DRIVER_KEYS = ['tenant', 'network', 'group'] as const;
/** swarm.ts's marker (defined here: swarm.ts builds on this module) */
export const SWARM_MARKER_OPTION = 'netloom.swarm';
const IPAM_KEYS = ['tenant', 'network'] as const;

/** Where a Docker network lives in netloom. */
export interface NetworkBinding {
  tenant: string;
  network: string;
  /** endpoint group (policy target); absent: the network's default group */
  group?: string;
}

/** What IPAM options say about a pool; fields are absent when not given. */
export interface PoolHint {
  tenant?: string;
  network?: string;
}

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `${field}: ${shown(value)} is not a valid name (letters, digits, '_', '.', '-'; up to 64; starting with a letter or digit)`,
      { field },
    );
  }
  return value;
}

function rejectUnknown(opts: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const k of Object.keys(opts)) {
    if (k.startsWith('com.docker.')) continue; // Docker's own keys, not the user's
    if (k === SWARM_MARKER_OPTION) continue; // our AllocateNetwork's, on a node (swarm.ts)
    if (!known.includes(k)) {
      const key = shown(k);
      throw new NetloomError('INVALID_ARGUMENT', `${where}.${k.slice(0, 64)}: unknown option ${key} (known: ${known.join(', ')})`, {
        field: `${where}.${k.slice(0, 64)}`,
      });
    }
  }
}

/** The user's `-o` options out of CreateNetwork's Options. */
export function genericOptions(options: Record<string, unknown>): Record<string, unknown> {
  const g = options[GENERIC_OPTIONS_KEY];
  if (g === undefined || g === null) return {};
  if (typeof g !== 'object' || Array.isArray(g)) {
    throw new NetloomError('INVALID_ARGUMENT', `Options.${GENERIC_OPTIONS_KEY}: must be a map of driver options`, {
      field: `Options.${GENERIC_OPTIONS_KEY}`,
    });
  }
  return g as Record<string, unknown>;
}

/** The IPAM options of RequestPool as a hint of which netloom network the pool belongs to. */
export function poolHintFromIpamOptions(options: Record<string, string>): PoolHint {
  rejectUnknown(options, IPAM_KEYS, 'Options');
  const hint: PoolHint = {};
  if (options.tenant !== undefined) hint.tenant = checkName(options.tenant, 'Options.tenant');
  if (options.network !== undefined) hint.network = checkName(options.network, 'Options.network');
  return hint;
}

/** Docker's short network id, as `docker network ls` shows it. */
export function shortId(dockerId: string): string {
  return dockerId.slice(0, 12);
}

/**
 * The binding of a Docker network from its driver options, with defaults from the IPAM pool's hint
 * (when the netloom IPAM driver serves it) and then tenant `default` / the short network id.
 */
export function bindingFromDriverOptions(
  dockerNetworkId: string,
  options: Record<string, unknown>,
  poolHint: PoolHint = {},
): NetworkBinding {
  const g = genericOptions(options);
  const where = `Options.${GENERIC_OPTIONS_KEY}`;
  rejectUnknown(g, DRIVER_KEYS, where);
  const tenant = g.tenant !== undefined ? checkName(g.tenant, `${where}.tenant`) : (poolHint.tenant ?? DEFAULT_TENANT);
  const network = g.network !== undefined ? checkName(g.network, `${where}.network`) : (poolHint.network ?? shortId(dockerNetworkId));
  const binding: NetworkBinding = { tenant, network };
  if (g.group !== undefined) binding.group = checkName(g.group, `${where}.group`);
  return binding;
}

/** True when a pool hint does not contradict a binding (absent hint fields agree with anything). */
export function hintAgrees(hint: PoolHint, binding: NetworkBinding): boolean {
  return (hint.tenant === undefined || hint.tenant === binding.tenant) && (hint.network === undefined || hint.network === binding.network);
}
