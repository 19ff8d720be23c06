/** A single-member etcd for one test file, on ports the caller chooses, stopped by PID afterwards. */
import { rmSync } from 'node:fs';
import { startEtcdMember, stopEtcdMember, waitEtcdHealthy } from '../../deploy/lab/etcd-cluster';

export interface EtcdFixture {
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startTestEtcd(name: string, clientPort: number): Promise<EtcdFixture> {
  const dir = `/tmp/nl-etcd-${name}`;
  rmSync(dir, { recursive: true, force: true });
  const member = {
    name,
    clientUrl: `http://127.0.0.1:${clientPort}`,
    peerUrl: `http://127.0.0.1:${clientPort + 1}`,
    dataDir: `${dir}/data`,
  };
  const pid = startEtcdMember(member, [member], `${name}-${Date.now()}`, `${dir}/log`);
  try {
    await waitEtcdHealthy([member.clientUrl], 20_000);
  } catch (e) {
    await stopEtcdMember(pid);
    throw e;
  }
  return {
    endpoint: member.clientUrl,
    pid,
    async stop() {
      await stopEtcdMember(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
