/**
 * A small client of the Docker Engine API (v1.41, what dockerd 20.10 speaks) over its unix
 * socket: only what the agent needs to keep its Docker networks (list, create, remove) and to read
 * a container's labels. Errors are NetloomErrors: UNAVAILABLE when dockerd does not answer,
 * otherwise Docker's own message with a code from its HTTP status.
 */
import { request } from 'node:http';
import { NetloomError, type ErrorCode } from '../../lib/errors';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const API = '/v1.41';
/** an answer larger than this is not one the agent asked for */
const MAX_BODY = 16 * 1024 * 1024;

/** The fields of `GET /networks` the agent reads. */
export interface DockerNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Options?: Record<string, string> | null;
  Internal?: boolean;
  Attachable?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: Array<{ Subnet?: string; Gateway?: string }> | null };
}

/** `POST /networks/create` */
export interface DockerNetworkCreate {
  Name: string;
  Driver: string;
  CheckDuplicate: boolean;
  Options: Record<string, string>;
  IPAM: { Driver: string; Options: Record<string, string>; Config: Array<{ Subnet: string; Gateway?: string }> };
  Labels: Record<string, string>;
  Internal?: boolean;
  Attachable?: boolean;
}

/** The fields of `GET /containers/json` the agent reads. */
export interface DockerContainerSummary {
  Id: string;
  Labels: Record<string, string> | null;
  NetworkSettings?: { Networks?: Record<string, { NetworkID?: string; EndpointID?: string }> | null } | null;
}

function codeOf(status: number): ErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 400) return 'INVALID_ARGUMENT';
  return 'UNAVAILABLE';
}

export class DockerEngineClient {
  constructor(
    readonly socketPath: string = DEFAULT_DOCKER_SOCKET,
    private readonly timeoutMs = 10_000,
  ) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path: `${API}${path}`,
          headers: { Host: 'docker', ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new Error(`dockerd's answer to ${method} ${path} is over ${MAX_BODY} bytes`));
            else chunks.push(c);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              try {
                resolve((text === '' ? undefined : JSON.parse(text)) as T);
              } catch {
                reject(new NetloomError('UNAVAILABLE', `dockerd answered ${method} ${path} with something that is not JSON`));
              }
              return;
            }
            let message = text.slice(0, 512);
            try {
              const m = (JSON.parse(text) as { message?: unknown }).message;
              if (typeof m === 'string') message = m;
            } catch {
              // not JSON: the raw text
            }
            reject(new NetloomError(codeOf(status), `dockerd: ${method} ${path}: ${message}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) =>
        reject(e instanceof NetloomError ? e : new NetloomError('UNAVAILABLE', `dockerd at ${this.socketPath}: ${e.message}`)),
      );
      req.end(payload);
    });
  }

  /** Networks carrying `label` (`key` or `key=value`). */
  listNetworks(label?: string): Promise<DockerNetwork[]> {
    const q = label === undefined ? '' : `?filters=${encodeURIComponent(JSON.stringify({ label: [label] }))}`;
    return this.call<DockerNetwork[]>('GET', `/networks${q}`);
  }

  inspectNetwork(id: string): Promise<DockerNetwork> {
    return this.call<DockerNetwork>('GET', `/networks/${encodeURIComponent(id)}`);
  }

  async createNetwork(spec: DockerNetworkCreate): Promise<string> {
    const r = await this.call<{ Id: string }>('POST', '/networks/create', spec);
    return r.Id;
  }

  /** Remove a network; one that is gone already is not an error. */
  async removeNetwork(id: string): Promise<void> {
    try {
      await this.call<undefined>('DELETE', `/networks/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!(e instanceof NetloomError && e.code === 'NOT_FOUND')) throw e;
    }
  }

  /** Containers (all states) attached to the network `networkId`. */
  containersOnNetwork(networkId: string): Promise<DockerContainerSummary[]> {
    const f = encodeURIComponent(JSON.stringify({ network: [networkId] }));
    return this.call<DockerContainerSummary[]>('GET', `/containers/json?all=1&filters=${f}`);
  }
}
