/**
 * What netloom cannot realize of the Kubernetes Services it stores, as the agents' views resolve
 * them (agent/kube-service-view.ts: an endpoint address no netloom endpoint has, an endpoint in
 * another tenant, a port of a protocol the backend lacks), reported as Warning Events on the
 * Services (issue 19). The views follow the cluster cache, so this does too: after a batch of
 * changes (at most once per `delayMs`), each Service's problems are computed again and a Service
 * whose problems changed gets an Event naming them (the controller posts one per version and
 * message). Types only from the agent side: it is handed in by netmaster's wiring.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** The cluster as this needs it: a change notification and a Service's problems (store key `namespace:name`). */
export interface ServiceProblemSource {
  /** call `cb` after every applied change; returns the unsubscribe function */
  subscribe(cb: () => void): () => void;
  problemsOf(storeKey: string): string[];
}

export interface ServiceProblemReporterOptions {
  source: ServiceProblemSource;
  /** the Services as the controller last saw them, by `namespace/name` */
  services: () => ReadonlyMap<string, KubernetesObject>;
  warn: (obj: KubernetesObject, reason: string, message: string) => Promise<void>;
  /** batches closer than this are checked once (default 500 ms) */
  delayMs?: number;
}

export class ServiceProblemReporter {
  private readonly reported = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: ServiceProblemReporterOptions) {
    this.unsubscribe = opts.source.subscribe(() => this.schedule());
  }

  /** Check soon (also after the controller stored a Service). */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, this.opts.delayMs ?? 500);
  }

  stop(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    const services = this.opts.services();
    for (const k of [...this.reported.keys()]) if (!services.has(k)) this.reported.delete(k);
    for (const [key, svc] of services) {
      const problems = this.opts.source.problemsOf(key.replace('/', ':'));
      const text = problems.join('; ');
      if (this.reported.get(key) === text) continue;
      this.reported.set(key, text);
      if (text !== '') await this.opts.warn(svc, 'NotRealized', `netloom cannot realize all of this Service: ${text}`);
    }
  }
}
