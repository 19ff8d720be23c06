/**
 * A local etcd cluster of 1 or 3 members, each a daemon we start and stop by recorded PID. With
 * `tls` (the lab's, pki.ts) clients and peers speak TLS and must present a certificate of its CA.
 */
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { run, spawnDaemon } from '../../lib/exec';
import { waitFor } from '../../lib/clock';
import { stopProcess } from '../../lib/process';
import type { EtcdMemberPlan } from './plan';

export function etcdClusterString(members: readonly EtcdMemberPlan[]): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

/** A member's TLS material: its server+peer certificate, and the CA clients and peers must have. */
export interface EtcdMemberTls {
  ca: string;
  cert: string;
  key: string;
}

/** What etcdctl needs to reach a TLS cluster. */
export interface EtcdClientTls {
  ca: string;
  cert: string;
  key: string;
}

function memberTlsArgs(tls: EtcdMemberTls | undefined): string[] {
  if (!tls) return [];
  return [
    ...['--cert-file', tls.cert, '--key-file', tls.key, '--trusted-ca-file', tls.ca, '--client-cert-auth'],
    ...['--peer-cert-file', tls.cert, '--peer-key-file', tls.key, '--peer-trusted-ca-file', tls.ca, '--peer-client-cert-auth'],
  ];
}

function etcdctlTlsArgs(tls: EtcdClientTls | undefined): string[] {
  return tls ? ['--cacert', tls.ca, '--cert', tls.cert, '--key', tls.key] : [];
}

/** Start one member; returns its PID. `token` keeps separate clusters from joining each other. */
export function startEtcdMember(
  member: EtcdMemberPlan,
  all: readonly EtcdMemberPlan[],
  token: string,
  logDir: string,
  tls?: EtcdMemberTls,
): number {
  mkdirSync(member.dataDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const client = new URL(member.clientUrl);
  const clientPort = client.port;
  const fd = openSync(`${logDir}/${member.name}.log`, 'a');
  try {
    return spawnDaemon(
      'etcd',
      [
        '--name',
        member.name,
        '--data-dir',
        member.dataDir,
        '--listen-client-urls',
        `${member.clientUrl},${client.protocol}//127.0.0.1:${clientPort}`,
        '--advertise-client-urls',
        member.clientUrl,
        '--listen-peer-urls',
        member.peerUrl,
        '--initial-advertise-peer-urls',
        member.peerUrl,
        '--initial-cluster',
        etcdClusterString(all),
        '--initial-cluster-token',
        token,
        '--initial-cluster-state',
        'new',
        '--heartbeat-interval',
        '100',
        '--election-timeout',
        '1000',
        '--logger',
        'zap',
        '--log-level',
        'warn',
        ...memberTlsArgs(tls),
      ],
      { logFd: fd },
    );
  } finally {
    closeSync(fd);
  }
}

/** etcdctl's view of each endpoint's health. */
export async function etcdHealth(
  endpoints: readonly string[],
  tls?: EtcdClientTls,
): Promise<Array<{ endpoint: string; healthy: boolean }>> {
  const args = ['--endpoints', endpoints.join(','), ...etcdctlTlsArgs(tls), 'endpoint', 'health', '-w', 'json', '--command-timeout=3s'];
  const r = await run('etcdctl', args, {
    env: { ...process.env, ETCDCTL_API: '3' },
    allowFailure: true,
    timeoutMs: 15_000,
  });
  try {
    const parsed = JSON.parse(r.stdout) as Array<{ endpoint: string; health: boolean }>;
    return parsed.map((p) => ({ endpoint: p.endpoint, healthy: p.health }));
  } catch {
    return endpoints.map((endpoint) => ({ endpoint, healthy: false }));
  }
}

export async function etcdMemberCount(endpoints: readonly string[], tls?: EtcdClientTls): Promise<number> {
  const r = await run('etcdctl', ['--endpoints', endpoints.join(','), ...etcdctlTlsArgs(tls), 'member', 'list', '-w', 'json'], {
    env: { ...process.env, ETCDCTL_API: '3' },
    timeoutMs: 15_000,
  });
  return ((JSON.parse(r.stdout) as { members?: unknown[] }).members ?? []).length;
}

export async function waitEtcdHealthy(endpoints: readonly string[], timeoutMs = 20_000, tls?: EtcdClientTls): Promise<void> {
  await waitFor(`etcd at ${endpoints.join(',')} to be healthy`, async () => (await etcdHealth(endpoints, tls)).every((h) => h.healthy), {
    timeoutMs,
    intervalMs: 200,
  });
}

export async function stopEtcdMember(pid: number): Promise<void> {
  await stopProcess(pid, 'etcd');
}
