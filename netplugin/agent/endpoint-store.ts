/**
 * The agent's own record of the endpoints it plugged on this host (endpoint id -> host interface,
 * container namespace, container, addresses), kept in a small JSON file written atomically, so that
 * a restarted agent re-attaches its endpoints (their ofports are read back from OVSDB) without
 * losing anything.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { NetloomError } from '../../lib/errors';
import { parseWith } from '../../lib/validation';
import { publishedPortSchema } from '../state/published-port';
import { byKey } from '../../lib/compare';

const recordSchema = z.object({
  endpointId: z.string().min(1),
  /** how the front end names the attachment (CNI: network/containerId/ifName; CNM: cnm/endpointId) */
  idempotencyKey: z.string().min(1),
  kind: z.enum(['cni', 'cnm']),
  /** the CNI network name, or the Docker network id */
  frontNetwork: z.string(),
  containerId: z.string(),
  ifName: z.string(),
  /** '' for CNM, whose container end stays in the agent's namespace until Docker moves it */
  netnsPath: z.string(),
  hostIf: z.string().min(1),
  networkKey: z.string().min(1),
  ip: z.string(),
  prefixLength: z.number().int().min(0).max(32),
  mac: z.string(),
  gateway: z.string(),
  /** whether the attachment installed the container's default route (via `gateway`); absent: it did */
  defaultRoute: z.boolean().optional(),
  mtu: z.number().int(),
  /** a routed endpoint (BGP mode): its host end is not on OVS but routed to (netplugin/routed/); absent: false */
  routed: z.boolean().optional(),
  /** ports the host publishes for the endpoint (CNI portMappings, Docker -p); absent: none */
  portMappings: z.array(publishedPortSchema).optional(),
  /** the container kept its tx checksum offload (userspace TSO; agent/userspace-tso.ts); absent: off or never touched */
  txChecksumOn: z.literal(true).optional(),
  /** the Kubernetes pod the endpoint is (its labels follow the pod's); absent: not a pod */
  pod: z.object({ namespace: z.string(), name: z.string() }).optional(),
});

export type EndpointRecord = z.infer<typeof recordSchema>;

const fileSchema = z.object({ version: z.literal(1), endpoints: z.array(recordSchema) });

export class EndpointStore {
  private readonly byKey = new Map<string, EndpointRecord>();

  constructor(private readonly path: string | undefined) {
    if (path) this.load(path);
  }

  private load(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    // the error points at the agent's option that names the file, not at the field inside it
    const file = parseWith(fileSchema, JSON.parse(text), {
      what: `endpoint state file ${path}`,
      code: 'DECODE_ERROR',
      field: 'state-dir',
      message: ({ reason }) => `endpoint state file ${path} is damaged: ${reason}`,
    });
    for (const rec of file.endpoints) this.byKey.set(rec.idempotencyKey, rec);
  }

  private writing: Promise<void> | undefined;
  private dirty = false;
  private failure: unknown;

  /**
   * Write the file (a temporary file renamed over it) in the background, never two writes at once;
   * changes made while a write runs go out in the next one. `flush()` waits for them.
   */
  private save(): void {
    if (!this.path) return;
    this.dirty = true;
    this.writing ??= this.writeLoop(this.path);
  }

  private async writeLoop(path: string): Promise<void> {
    try {
      mkdirSync(dirname(path), { recursive: true });
      while (this.dirty) {
        this.dirty = false;
        const tmp = `${path}.tmp`;
        await writeFile(tmp, JSON.stringify({ version: 1, endpoints: this.list() }, null, 1));
        await rename(tmp, path);
      }
    } catch (e) {
      this.failure = e;
    } finally {
      this.writing = undefined;
    }
  }

  /** Resolves once every change made so far is on disk; rejects when a write failed. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure !== undefined) {
      const e = this.failure;
      this.failure = undefined;
      this.dirty = true; // written again by the next change or flush
      throw new NetloomError(
        'INTERNAL',
        `writing the endpoint state file ${this.path ?? ''} failed: ${e instanceof Error ? e.message : String(e)}`,
        { field: 'state-dir', cause: e },
      );
    }
  }

  list(): EndpointRecord[] {
    return [...this.byKey.values()].sort(byKey((e) => e.idempotencyKey));
  }

  get(idempotencyKey: string): EndpointRecord | undefined {
    return this.byKey.get(idempotencyKey);
  }

  byEndpointId(id: string): EndpointRecord | undefined {
    return this.list().find((r) => r.endpointId === id);
  }

  put(rec: EndpointRecord): void {
    this.byKey.set(rec.idempotencyKey, recordSchema.parse(rec));
    this.save();
  }

  remove(idempotencyKey: string): boolean {
    const had = this.byKey.delete(idempotencyKey);
    if (had) this.save();
    return had;
  }
}
