/**
 * The lab's Kubernetes API (`up --kube-api`): the API server stand-in (tools/kube-apiserver, run by
 * path: deploy does not import tools) on the lab's etcd under /registry, serving HTTPS on the
 * management address with a certificate of the lab CA, an admin bearer token, and a kubeconfig
 * for kubectl and @kubernetes/client-node (`netloom-lab kubeconfig` prints its path). Stopped with
 * the lab's other daemons (its PID is in the state file).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import { spawnDaemon } from '../../lib/exec';
import { isAlive } from '../../lib/process';
import { restRequest } from '../../lib/rest-request';
import type { LabPlan } from './plan';
import { makeCert, pkiPaths, type CertPaths } from './pki';

/** tools/kube-apiserver's entry point in dist/ (spawned by path). */
export const KUBE_APISERVER_JS = resolve(__dirname, '../../tools/kube-apiserver/main.js');
/** What the state file records as the program (checked in the command line before a signal). */
export const KUBE_APISERVER_PROGRAM = 'kube-apiserver/main.js';
export const KUBE_APISERVER_ROLE = 'kube-apiserver';

export interface KubeApiPaths {
  url: string;
  listen: { host: string; port: number };
  dir: string;
  kubeconfig: string;
  tokens: string;
  log: string;
  cert: CertPaths;
  etcdClient: CertPaths;
}

/** Where the lab's API lives (pure): the management address, the lab's port block + 43 (as 6443). */
export function kubeApiPaths(plan: Pick<LabPlan, 'dir' | 'index' | 'rootMgmtIp' | 'hosts' | 'etcd'>): KubeApiPaths {
  const port = 13000 + plan.index * 100 + 43;
  const dir = `${plan.dir}/kube-api`;
  const pki = pkiPaths(plan).dir;
  return {
    url: `https://${plan.rootMgmtIp}:${port}`,
    listen: { host: plan.rootMgmtIp, port },
    dir,
    kubeconfig: `${dir}/kubeconfig`,
    tokens: `${dir}/tokens.csv`,
    log: `${plan.dir}/log/kube-apiserver.log`,
    cert: { cert: `${pki}/kube-apiserver.crt`, key: `${pki}/kube-apiserver.key` },
    etcdClient: { cert: `${pki}/etcd-kube-apiserver.crt`, key: `${pki}/etcd-kube-apiserver.key` },
  };
}

function kubeconfigText(name: string, url: string, ca: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: netloom-${name}`,
    '  cluster:',
    `    server: ${url}`,
    `    certificate-authority: ${ca}`,
    'users:',
    '- name: admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: netloom-${name}`,
    `  context: {cluster: netloom-${name}, user: admin}`,
    `current-context: netloom-${name}`,
    '',
  ].join('\n');
}

/** Certificates, token and kubeconfig, then the server; returns its PID once it answers. */
export async function startKubeApi(
  plan: LabPlan,
  etcdEndpoints: readonly string[],
  opts: { gracefulPodDeletion?: boolean } = {},
): Promise<number> {
  const p = kubeApiPaths(plan);
  const pki = pkiPaths(plan);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  mkdirSync(`${plan.dir}/log`, { recursive: true });
  await makeCert(p.cert, pki.ca, {
    subject: { O: 'netloom:kube-apiserver', CN: 'kube-apiserver' },
    san: `DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost,IP:${plan.rootMgmtIp},IP:127.0.0.1,IP:10.96.0.1`,
    eku: 'serverAuth',
  });
  await makeCert(p.etcdClient, pki.etcdCa, { subject: { O: 'netloom:etcd-client', CN: 'kube-apiserver' }, eku: 'clientAuth' });
  const token = randomBytes(24).toString('hex');
  writeFileSync(p.tokens, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  writeFileSync(p.kubeconfig, kubeconfigText(plan.name, p.url, pki.ca.cert, token), { mode: 0o600 });
  const args = [
    KUBE_APISERVER_JS,
    ...['--etcd-servers', etcdEndpoints.join(','), '--etcd-cafile', pki.etcdCa.cert],
    ...['--etcd-certfile', p.etcdClient.cert, '--etcd-keyfile', p.etcdClient.key],
    ...['--bind-address', p.listen.host, '--secure-port', String(p.listen.port)],
    ...['--tls-cert-file', p.cert.cert, '--tls-private-key-file', p.cert.key, '--token-auth-file', p.tokens],
    // with kubelets (up --kube) a pod's delete goes through its kubelet, as on a cluster
    ...(opts.gracefulPodDeletion ? ['--graceful-pod-deletion'] : []),
  ];
  const fd = openSync(p.log, 'a');
  let pid: number;
  try {
    pid = spawnDaemon(process.execPath, args, { logFd: fd });
  } finally {
    closeSync(fd);
  }
  // waitFor retries a check that throws: an exit ends the wait as an outcome, and fails after it
  const outcome = await waitFor(
    `the Kubernetes API at ${p.url}`,
    async () => (!isAlive(pid) ? 'exited' : (await kubeApiHealthy(plan)) && 'serving'),
    {
      timeoutMs: 90_000,
      intervalMs: 100,
    },
  );
  if (outcome === 'exited') throw new NetloomError('COMMAND_FAILED', `kube-apiserver exited: ${readFileSync(p.log, 'utf8').slice(-1500)}`);
  return pid;
}

/** True when the lab's API answers /readyz over its TLS. */
export async function kubeApiHealthy(plan: LabPlan): Promise<boolean> {
  try {
    const ca = readFileSync(pkiPaths(plan).ca.cert);
    return (await restRequest(`${kubeApiPaths(plan).url}/readyz`, { credentials: { ca }, timeoutMs: 2000 })).ok;
  } catch {
    return false;
  }
}

/** The kubeconfig of a lab made with --kube-api. */
export function labKubeconfig(plan: LabPlan): string {
  const path = kubeApiPaths(plan).kubeconfig;
  if (!existsSync(path))
    throw new NetloomError('NOT_FOUND', `lab "${plan.name}" has no Kubernetes API (bring it up with: netloom-lab up --kube-api)`, {
      field: 'lab',
    });
  return path;
}
