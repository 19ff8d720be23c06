/**
 * A lab made as a Kubernetes cluster (`netloom-lab up --hosts 3 --kube`) for the tests that drive
 * it as a cluster admin does: kubectl against the lab's API stand-in, and the kubelet's CRI on each
 * host to look into pods. `hooks()` makes the lab afresh before the suite and removes it after.
 */
import { run } from '../../lib/exec';
import { containerdPaths } from '../../deploy/lab/containerd-paths';
import { kubeApiPaths } from '../../deploy/lab/kube-api';
import { CriClient } from '../../deploy/lab/cri/client';
import { planLab, type LabPlan } from '../../deploy/lab/plan';
import { labCli, type LabCli } from './lab-cli';
import { kubectlPath } from './kube-apiserver';

export class KubeClusterLab {
  readonly lab: LabCli;
  readonly plan: LabPlan;
  private readonly cris = new Map<string, CriClient>();

  /** `name`: the lab's name; `tag`: how log lines are marked */
  constructor(
    name: string,
    private readonly tag: string,
  ) {
    this.lab = labCli(name);
    this.plan = planLab({ name, hosts: 3, etcdMembers: 1, netmasters: 1 });
  }

  log(msg: string): void {
    console.log(`      [${this.tag}] ${msg}`);
  }

  /** Debian's kubectl 1.20 with the lab's kubeconfig; its standard output. */
  async kubectl(args: string[], input?: string, allowFailure = false): Promise<string> {
    const r = await run(kubectlPath(), ['--kubeconfig', kubeApiPaths(this.plan).kubeconfig, ...args], {
      ...(input !== undefined ? { input } : {}),
      timeoutMs: 90_000,
      allowFailure,
    });
    return r.stdout;
  }

  /** The CRI of `host`'s containerd (one client per host, closed by the after hook). */
  cri(host: string): CriClient {
    let c = this.cris.get(host);
    if (!c) {
      c = new CriClient(containerdPaths(this.plan, host).socket, { timeoutMs: 60_000 });
      this.cris.set(host, c);
    }
    return c;
  }

  /** Mocha hooks: the lab made afresh before the suite (after a `down` of what a killed run left), removed after it. */
  hooks(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- mocha gives hooks their own `this` (their timeout)
    const cluster = this;
    before(async function () {
      this.timeout(600_000);
      await cluster.lab(['down'], true);
      const t0 = Date.now();
      await cluster.lab(['up', '--hosts', '3', '--kube'], false, 600_000);
      cluster.log(`lab up --kube with 3 hosts in ${Date.now() - t0} ms`);
    });
    after(async function () {
      this.timeout(180_000);
      for (const c of cluster.cris.values()) c.close();
      cluster.cris.clear();
      await cluster.lab(['down'], true, 180_000);
    });
  }
}
