/**
 * A reachability matrix as the upstream NetworkPolicy e2e tests write one
 * (kubernetes/kubernetes test/e2e/network/netpol): every ordered pair of pods starts allowed (or
 * denied), and expectations override cells in order: one pair, every pair matching a peer pattern
 * (a namespace, a pod, or both; an empty pattern is every pod), everything into a pod, everything
 * out of a pod. A pod to itself is loopback, which upstream ignores: it has no cell here.
 */

/** A pattern over pods `ns/name`: absent parts match any. */
export interface PeerPattern {
  namespace?: string;
  pod?: string;
}

const matches = (p: PeerPattern, pod: string): boolean => {
  const [ns, name] = pod.split('/');
  return (p.namespace === undefined || p.namespace === ns) && (p.pod === undefined || p.pod === name);
};

export class Reachability {
  private readonly cells = new Map<string, boolean>();

  constructor(
    readonly pods: readonly string[],
    allowed = true,
  ) {
    for (const from of pods) for (const to of pods) if (from !== to) this.cells.set(`${from} ${to}`, allowed);
  }

  /** One pair. */
  expect(from: string, to: string, allowed: boolean): this {
    if (from !== to) this.set(from, to, allowed);
    return this;
  }

  /** Every pair whose source matches `from` and destination `to`. */
  expectPeer(from: PeerPattern, to: PeerPattern, allowed: boolean): this {
    for (const f of this.pods) for (const t of this.pods) if (f !== t && matches(from, f) && matches(to, t)) this.set(f, t, allowed);
    return this;
  }

  /** Everything into `to`. */
  expectAllIngress(to: string, allowed: boolean): this {
    return this.expectPeer({}, podPattern(to), allowed);
  }

  /** Everything out of `from`. */
  expectAllEgress(from: string, allowed: boolean): this {
    return this.expectPeer(podPattern(from), {}, allowed);
  }

  allowed(from: string, to: string): boolean {
    const v = this.cells.get(`${from} ${to}`);
    if (v === undefined) throw new Error(`no cell ${from} -> ${to}`);
    return v;
  }

  /** Every cell, in pod order. */
  entries(): Array<{ from: string; to: string; allowed: boolean }> {
    return [...this.cells].map(([k, allowed]) => {
      const [from, to] = k.split(' ') as [string, string];
      return { from, to, allowed };
    });
  }

  private set(from: string, to: string, allowed: boolean): void {
    if (!this.cells.has(`${from} ${to}`)) throw new Error(`no pod pair ${from} -> ${to}`);
    this.cells.set(`${from} ${to}`, allowed);
  }
}

function podPattern(pod: string): PeerPattern {
  const [namespace, name] = pod.split('/');
  if (!namespace || !name) throw new Error(`not a pod ns/name: ${pod}`);
  return { namespace, pod: name };
}
