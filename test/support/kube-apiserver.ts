/**
 * The Kubernetes API server stand-in (tools/kube-apiserver) as a test runs it: its own
 * certificates (a CA and a serving certificate for 127.0.0.1), a token file with an admin, the
 * real program started as a daemon on a port of the test's over the test's etcd, a kubeconfig
 * that kubectl and @kubernetes/client-node both use as is, and kubectl (Debian's 1.20, see
 * kubectlPath) run against it with a private discovery cache. Stopped by PID.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { resolve } from 'node:path';
import { waitFor } from '../../lib/clock';
import { run, spawnDaemon, type RunResult } from '../../lib/exec';
import { isAlive, stopProcess } from '../../lib/process';
import { makeLeaf, makeSelfSigned } from './test-certs';

export const KUBE_APISERVER_JS = resolve(__dirname, '../../tools/kube-apiserver/main.js');
/** Where deploy/install.sh puts Debian's kubectl 1.20 (kubernetes-client), apart from any other kubectl on the machine. */
export const DEBIAN_KUBECTL = '/usr/local/lib/netloom/kubectl-1.20/kubectl';

/** The kubectl the tests drive: $NETLOOM_KUBECTL, else Debian's 1.20 where install.sh put it, else `kubectl` on PATH. */
export function kubectlPath(): string {
  return process.env.NETLOOM_KUBECTL ?? (existsSync(DEBIAN_KUBECTL) ? DEBIAN_KUBECTL : 'kubectl');
}

export const ADMIN_TOKEN = 'netloom-test-admin-token';

export interface KubeApiOptions {
  /** names the fixture's directory (/tmp/nl-kube-NAME) */
  name: string;
  etcdEndpoint: string;
  port: number;
  /** seconds between BOOKMARKs (default 60, as the real server) */
  bookmarkIntervalSeconds?: number;
  extraArgs?: string[];
}

export interface ApiResponse {
  status: number;
  /** the body parsed as JSON (undefined when it is not JSON) */
  json: unknown;
  text: string;
}

export interface KubeApiFixture {
  url: string;
  dir: string;
  kubeconfig: string;
  caFile: string;
  token: string;
  readonly pid: number;
  /** one HTTP request to the API (the admin's token unless `token` is given; null: none) */
  request(
    method: string,
    path: string,
    o?: { body?: unknown; contentType?: string; token?: string | null; accept?: string },
  ): Promise<ApiResponse>;
  /** kubectl with the fixture's kubeconfig; throws on a non-zero exit unless allowFailure */
  kubectl(args: string[], opts?: { input?: string; allowFailure?: boolean }): Promise<RunResult>;
  /** stop the server and start it again on the same port and etcd */
  restart(): Promise<void>;
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** stop the server and remove its files */
  stop(): Promise<void>;
}

export async function startKubeApi(o: KubeApiOptions): Promise<KubeApiFixture> {
  const dir = `/tmp/nl-kube-${o.name}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await makeSelfSigned(dir, 'ca', 'netloom test kube CA');
  await makeLeaf(dir, 'ca', 'apiserver', {
    cn: 'kube-apiserver',
    ext: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  });
  writeFileSync(`${dir}/tokens.csv`, `${ADMIN_TOKEN},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
  const url = `https://127.0.0.1:${o.port}`;
  const kubeconfig = `${dir}/kubeconfig`;
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${o.name}`,
      '  cluster:',
      `    server: ${url}`,
      `    certificate-authority: ${dir}/ca.crt`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${ADMIN_TOKEN}`,
      'contexts:',
      `- name: ${o.name}`,
      `  context: {cluster: ${o.name}, user: admin}`,
      `current-context: ${o.name}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const args = [
    KUBE_APISERVER_JS,
    '--etcd-servers',
    o.etcdEndpoint,
    '--bind-address',
    '127.0.0.1',
    '--secure-port',
    String(o.port),
    '--tls-cert-file',
    `${dir}/apiserver.crt`,
    '--tls-private-key-file',
    `${dir}/apiserver.key`,
    '--token-auth-file',
    `${dir}/tokens.csv`,
    ...(o.bookmarkIntervalSeconds ? ['--watch-bookmark-interval', String(o.bookmarkIntervalSeconds)] : []),
    '--log-level',
    'debug',
    ...(o.extraArgs ?? []),
  ];
  let pid = 0;
  const startServer = async (): Promise<void> => {
    const fd = openSync(`${dir}/apiserver.log`, 'a');
    try {
      pid = spawnDaemon(process.execPath, args, { logFd: fd });
    } finally {
      closeSync(fd);
    }
    // waitFor retries a check that throws: an exit ends the wait as an outcome, and fails after it
    const outcome = await waitFor(
      'the kube-apiserver stand-in to serve',
      async () => {
        if (!isAlive(pid)) return 'exited';
        const ready = await run('curl', ['-sf', '--cacert', `${dir}/ca.crt`, `${url}/readyz`], { allowFailure: true, timeoutMs: 5000 });
        return ready.code === 0 && 'serving';
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    if (outcome === 'exited')
      throw new Error(`the kube-apiserver stand-in exited: ${readFileSync(`${dir}/apiserver.log`, 'utf8').slice(-2000)}`);
  };
  const stopServer = async (): Promise<void> => {
    if (pid) await stopProcess(pid, 'kube-apiserver/main.js');
  };
  await startServer();
  return {
    url,
    dir,
    kubeconfig,
    caFile: `${dir}/ca.crt`,
    token: ADMIN_TOKEN,
    get pid() {
      return pid;
    },
    request: (method, path, ro = {}) =>
      new Promise<ApiResponse>((resolvePromise, reject) => {
        const body = ro.body === undefined ? undefined : typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body);
        const token = ro.token === undefined ? ADMIN_TOKEN : ro.token;
        const req = httpsRequest(
          `${url}${path}`,
          {
            method,
            ca: readFileSync(`${dir}/ca.crt`),
            headers: {
              ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
              ...(body !== undefined ? { 'Content-Type': ro.contentType ?? 'application/json' } : {}),
              ...(ro.accept ? { Accept: ro.accept } : {}),
            },
            timeout: 30_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
              resolvePromise({ status: res.statusCode ?? 0, json, text });
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    kubectl: (kargs, opts = {}) =>
      run(kubectlPath(), ['--kubeconfig', kubeconfig, '--cache-dir', `${dir}/kubectl-cache`, ...kargs], {
        timeoutMs: 60_000,
        ...(opts.input !== undefined ? { input: opts.input } : {}),
        ...(opts.allowFailure ? { allowFailure: true } : {}),
      }),
    async restart() {
      await stopServer();
      await startServer();
    },
    stopServer,
    startServer,
    async stop() {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
