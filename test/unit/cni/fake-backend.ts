/**
 * A CniBackend for tests that records every call and answers from settable fields: a result for
 * ADD, problems for CHECK, a status, and an error to throw from the next call. It also tracks
 * attachments so that GC can be checked for releasing exactly the ones not listed as valid.
 */
import type {
  AttachmentKey,
  CniAddRequest,
  CniBackend,
  CniCheckReport,
  CniCheckRequest,
  CniDelRequest,
  CniGcReport,
  CniGcRequest,
  CniResult,
  CniStatus,
  CniStatusRequest,
} from '../../../netplugin/cni/types';

export type RecordedCall =
  | { op: 'add'; req: CniAddRequest }
  | { op: 'del'; req: CniDelRequest }
  | { op: 'check'; req: CniCheckRequest }
  | { op: 'status'; req: CniStatusRequest }
  | { op: 'gc'; req: CniGcRequest };

export const FAKE_RESULT: CniResult = {
  interfaces: [
    { name: 'nlvhost0', mac: '02:00:00:00:00:01', mtu: 1450 },
    { name: 'eth0', mac: '02:00:00:00:00:02', mtu: 1450, sandbox: '/run/netns/x' },
  ],
  ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 1 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1', mtu: 1450 }],
  dns: {},
};

export class FakeBackend implements CniBackend {
  calls: RecordedCall[] = [];
  result: CniResult = FAKE_RESULT;
  checkProblems: string[] = [];
  statusAnswer: CniStatus = { ready: true };
  /** thrown (once) by the next call of any operation */
  nextError: unknown;
  /** attachments added and not deleted or collected, as "network/containerId/ifName" */
  live = new Set<string>();

  private maybeThrow(): void {
    if (this.nextError !== undefined) {
      const e = this.nextError;
      this.nextError = undefined;
      throw e;
    }
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  async add(req: CniAddRequest): Promise<CniResult> {
    this.calls.push({ op: 'add', req });
    this.maybeThrow();
    this.live.add(`${req.network.cniNetwork}/${req.containerId}/${req.ifName}`);
    return this.result;
  }

  async del(req: CniDelRequest): Promise<void> {
    this.calls.push({ op: 'del', req });
    this.maybeThrow();
    this.live.delete(`${req.network.cniNetwork}/${req.containerId}/${req.ifName}`);
  }

  async check(req: CniCheckRequest): Promise<CniCheckReport> {
    this.calls.push({ op: 'check', req });
    this.maybeThrow();
    return { problems: this.checkProblems };
  }

  async status(req: CniStatusRequest): Promise<CniStatus> {
    this.calls.push({ op: 'status', req });
    this.maybeThrow();
    return this.statusAnswer;
  }

  async gc(req: CniGcRequest): Promise<CniGcReport> {
    this.calls.push({ op: 'gc', req });
    this.maybeThrow();
    const valid = new Set(req.validAttachments.map((a) => `${req.network.cniNetwork}/${a.containerId}/${a.ifName}`));
    const released: AttachmentKey[] = [];
    for (const k of [...this.live]) {
      const [net, containerId, ifName] = k.split('/') as [string, string, string];
      if (net !== req.network.cniNetwork || valid.has(k)) continue;
      this.live.delete(k);
      released.push({ containerId, ifName });
    }
    return { released, errors: [] };
  }
}
