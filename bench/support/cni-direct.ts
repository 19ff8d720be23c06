/**
 * A CNI request posted straight to the agent's socket from the benchmark process, the way the
 * shim (bin/netloom-cni) sends it but without starting any program: the difference to a run of
 * the shim is the shim's own share of an ADD (its processes and the `nsenter` wrapper).
 */
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { CNI_HEADERS, CNI_REQUEST_PATH } from '../../netplugin/cni/handler';

export interface DirectResult {
  ms: number;
  status: number;
  body: string;
}

/** POST /v1/cni with the CNI variables as headers (CNI_COMMAND -> CNI-Command, ...) and `netconf` as the body. */
export function postCni(socket: string, env: Record<string, string>, netconf: string): Promise<DirectResult> {
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(netconf) };
  const names: Record<string, string> = {
    CNI_COMMAND: CNI_HEADERS.command,
    CNI_CONTAINERID: CNI_HEADERS.containerId,
    CNI_NETNS: CNI_HEADERS.netns,
    CNI_IFNAME: CNI_HEADERS.ifName,
    CNI_ARGS: CNI_HEADERS.args,
    CNI_PATH: CNI_HEADERS.path,
  };
  for (const [k, v] of Object.entries(env)) {
    const h = names[k];
    if (h !== undefined) headers[h] = v;
  }
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ socketPath: socket, method: 'POST', path: CNI_REQUEST_PATH, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('agent did not answer within 30 s')));
    req.on('error', reject);
    req.end(netconf);
  });
}
