/**
 * The address and MAC each deleted CNI attachment had, by attachment key (CNI network + container
 * id + interface), the newest `max` kept, in memory. A runtime that restarts a container (podman
 * restart: DEL on stop, ADD with the same container id on start) asks for no address; the ADD asks
 * for this one first so that the container keeps its address when it is still free, and keeps its
 * MAC so that peers' ARP caches stay right (a new MAC behind the same address is unreachable for
 * a peer until its stale entry fails, tens of seconds).
 */
export interface RecentAddress {
  ip: string;
  mac: string;
}

export class RecentAddresses {
  private readonly byKey = new Map<string, RecentAddress>();

  constructor(private readonly max = 1024) {}

  remember(key: string, last: RecentAddress): void {
    this.byKey.delete(key);
    this.byKey.set(key, last);
    for (const oldest of this.byKey.keys()) {
      if (this.byKey.size <= this.max) break;
      this.byKey.delete(oldest);
    }
  }

  /** The remembered address of `key`, forgotten from now on (one try: a taken address is not asked for again). */
  take(key: string): RecentAddress | undefined {
    const last = this.byKey.get(key);
    this.byKey.delete(key);
    return last;
  }
}
