/**
 * The node's own object in the API, as the kubelet registers it (pure builders; main.ts writes
 * them): the Node with the well-known hostname and OS labels, then its status (InternalIP and
 * Hostname addresses, Ready once the kubelet follows its pods). A lab node has no capacity to
 * report: there is no scheduler (pods are pinned with spec.nodeName).
 */
import type { V1Node, V1NodeStatus } from '@kubernetes/client-node';
import { apiTime } from './pod-status';

export function nodeObject(name: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
    spec: {},
  };
}

export function nodeStatus(o: { name: string; ip: string; ready: boolean; nowMs: number }): V1NodeStatus {
  const now = apiTime(o.nowMs) as unknown as Date;
  return {
    addresses: [
      { type: 'InternalIP', address: o.ip },
      { type: 'Hostname', address: o.name },
    ],
    conditions: [
      {
        type: 'Ready',
        status: o.ready ? 'True' : 'False',
        reason: o.ready ? 'KubeletReady' : 'KubeletNotReady',
        message: o.ready ? 'kubelet is posting ready status' : 'kubelet is starting',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    nodeInfo: {
      architecture: 'amd64',
      bootID: '',
      containerRuntimeVersion: 'containerd://1.6',
      kernelVersion: '',
      kubeProxyVersion: '',
      kubeletVersion: 'v1.20.0-netloom',
      machineID: '',
      operatingSystem: 'linux',
      osImage: 'netloom lab',
      systemUUID: '',
    },
  };
}
