/** Thin wrappers over iproute2 for namespaces and links. */
import { run, output } from '../../lib/exec';

export async function listNetns(): Promise<string[]> {
  const out = await output('ip', ['-o', 'netns', 'list']);
  return out === ''
    ? []
    : out
        .split('\n')
        .map((l) => l.split(' ')[0] ?? '')
        .filter((n) => n !== '');
}

export async function netnsExists(name: string): Promise<boolean> {
  return (await listNetns()).includes(name);
}

export async function addNetns(name: string): Promise<void> {
  if (await netnsExists(name)) return;
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function delNetns(name: string): Promise<void> {
  if (await netnsExists(name)) await run('ip', ['netns', 'del', name], { allowFailure: true });
}

/** Names of links in a namespace (or the root namespace). */
export async function listLinks(netns?: string): Promise<string[]> {
  const out = await output('ip', [...(netns ? ['-n', netns] : []), '-o', 'link', 'show']);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '')
    .filter((n) => n !== '');
}

export async function linkExists(name: string, netns?: string): Promise<boolean> {
  return (await listLinks(netns)).includes(name);
}

/** A veth pair: `a` in namespace `nsA` (root when undefined), `b` in `nsB`. */
export async function addVeth(a: string, nsA: string | undefined, b: string, nsB: string | undefined): Promise<void> {
  if (await linkExists(a, nsA)) return;
  await run('ip', [...(nsA ? ['-n', nsA] : []), 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, ...(nsB ? ['netns', nsB] : [])]);
}

export async function delLink(name: string, netns?: string): Promise<void> {
  await run('ip', [...(netns ? ['-n', netns] : []), 'link', 'del', name], { allowFailure: true });
}

export async function linkUp(name: string, netns?: string, extra: string[] = []): Promise<void> {
  await run('ip', [...(netns ? ['-n', netns] : []), 'link', 'set', name, ...extra, 'up']);
}

export async function addAddr(name: string, cidr: string, netns?: string): Promise<void> {
  const r = await run('ip', [...(netns ? ['-n', netns] : []), 'addr', 'add', cidr, 'dev', name], { allowFailure: true });
  if (r.code !== 0 && !r.stderr.includes('File exists')) throw new Error(`ip addr add ${cidr} dev ${name}: ${r.stderr.trim()}`);
}

export async function addBridge(name: string, netns: string): Promise<void> {
  if (await linkExists(name, netns)) return;
  // vlan_filtering 0: the bridge forwards 802.1Q-tagged frames untouched between its ports.
  await run('ip', ['-n', netns, 'link', 'add', name, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  await linkUp(name, netns);
}

export async function setMaster(link: string, bridge: string, netns: string): Promise<void> {
  await run('ip', ['-n', netns, 'link', 'set', link, 'master', bridge]);
}
