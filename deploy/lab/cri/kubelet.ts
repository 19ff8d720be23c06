/**
 * The CRI requests the kubelet makes for a pod, built the way it builds them
 * (pkg/kubelet/kuberuntime: generatePodSandboxConfig, generatePodSandboxLinuxConfig,
 * generateContainerConfig), from a small pod description; pure. What a runtime and its CNI plugin
 * see is what a real node sends: sandbox metadata (name, uid, namespace, attempt), the pod's hostname,
 * its log directory `<logRoot>/<namespace>_<name>_<uid>`, cluster DNS, one port mapping per container
 * port (hostPort 0 when none: containerd passes only those with a host port to CNI), the pod's labels
 * plus io.kubernetes.pod.{name,namespace,uid}, its annotations as they are, and the kubelet's
 * default Linux security context (RuntimeDefault seccomp for the sandbox; network and IPC per pod,
 * PID per container).
 */
import { createHash } from 'node:crypto';
import { NetloomError } from '../../../lib/errors';
import type { ContainerConfig, KeyValue, PodSandboxConfig, PortMapping, Protocol } from './types';

/** The labels the kubelet adds to every sandbox and container (k8s.io/kubelet/pkg/types). */
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';

export interface ContainerPort {
  /** an IANA_SVC_NAME (named ports) */
  name?: string;
  containerPort: number;
  /** 0 or absent: no port on the node */
  hostPort?: number;
  hostIP?: string;
  protocol?: Protocol;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  ports?: ContainerPort[];
}

/** The parts of a v1.Pod the kubelet's CRI calls read. */
export interface PodSpec {
  name: string;
  namespace: string;
  uid: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** spec.hostname; default the pod's name */
  hostname?: string;
  containers: ContainerSpec[];
  /** spec.terminationGracePeriodSeconds (default 30) */
  terminationGracePeriodSeconds?: number;
}

/** What the node (kubelet flags and config) adds. */
export interface NodeConfig {
  /** --pod-logs-dir (the kubelet's /var/log/pods) */
  logRoot: string;
  /** the cgroup the kubelet makes per pod lives below this one (the kubelet's /kubepods/besteffort) */
  cgroupRoot: string;
  /** clusterDNS; none: the pod gets no name servers */
  clusterDns?: string[];
  /** clusterDomain (default cluster.local) */
  clusterDomain?: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A pod the API server would accept, as far as the CRI calls care; errors name the field. */
export function checkPod(pod: PodSpec): void {
  const bad = (field: string, why: string): never => {
    throw new NetloomError('INVALID_ARGUMENT', `pod ${field} ${why}`, { field });
  };
  if (pod.name.length > 253 || !DNS1123_SUBDOMAIN.test(pod.name)) bad('metadata.name', `"${pod.name}" is not a DNS-1123 subdomain`);
  if (pod.namespace.length > 63 || !DNS1123_LABEL.test(pod.namespace))
    bad('metadata.namespace', `"${pod.namespace}" is not a DNS-1123 label`);
  if (pod.uid === '') bad('metadata.uid', 'is empty');
  if (pod.containers.length === 0) bad('spec.containers', 'is empty');
  const names = new Set<string>();
  pod.containers.forEach((c, i) => {
    if (c.name.length > 63 || !DNS1123_LABEL.test(c.name)) bad(`spec.containers[${i}].name`, `"${c.name}" is not a DNS-1123 label`);
    if (names.has(c.name)) bad(`spec.containers[${i}].name`, `"${c.name}" appears twice`);
    names.add(c.name);
    (c.ports ?? []).forEach((p, j) => {
      const f = `spec.containers[${i}].ports[${j}]`;
      if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535)
        bad(`${f}.containerPort`, 'must be 1..65535');
      if (p.hostPort !== undefined && (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535))
        bad(`${f}.hostPort`, 'must be 0..65535');
    });
  });
}

/** The pod's log directory as the kubelet names it (BuildPodLogsDirectory). */
export function podLogDirectory(logRoot: string, pod: Pick<PodSpec, 'name' | 'namespace' | 'uid'>): string {
  return `${logRoot}/${pod.namespace}_${pod.name}_${pod.uid}`;
}

/** The kubelet's sandbox labels: the pod's, then its name, namespace and UID (newPodLabels). */
export function podLabels(pod: PodSpec): Record<string, string> {
  return { ...(pod.labels ?? {}), [POD_NAME_LABEL]: pod.name, [POD_NAMESPACE_LABEL]: pod.namespace, [POD_UID_LABEL]: pod.uid };
}

/** One mapping per container port, in pod order (kubecontainer.MakePortMappings: a repeated name is skipped). */
export function podPortMappings(pod: PodSpec): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.containers) {
    const seen = new Set<string>();
    for (const p of c.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      const name = p.name ?? `${c.name}-${protocol}-${p.containerPort}`;
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ hostIp: p.hostIP ?? '', hostPort: p.hostPort ?? 0, containerPort: p.containerPort, protocol });
    }
  }
  return out;
}

/** ClusterFirst DNS as the kubelet configures it: cluster servers, the namespace's search path, ndots:5. */
export function podDnsConfig(
  pod: Pick<PodSpec, 'namespace'>,
  node: Pick<NodeConfig, 'clusterDns' | 'clusterDomain'>,
): PodSandboxConfig['dnsConfig'] {
  const domain = node.clusterDomain ?? 'cluster.local';
  return {
    servers: node.clusterDns ?? [],
    searches: [`${pod.namespace}.svc.${domain}`, `svc.${domain}`, domain],
    options: ['ndots:5'],
  };
}

/** The pod's cgroup as the kubelet names it below its QoS class's (pod<UID>). */
export function podCgroupParent(node: Pick<NodeConfig, 'cgroupRoot'>, pod: Pick<PodSpec, 'uid'>): string {
  return `${node.cgroupRoot}/pod${pod.uid}`;
}

/** RunPodSandbox's config for `pod`, attempt `attempt` (0 the first time, +1 for each new sandbox). */
export function podSandboxConfig(pod: PodSpec, node: NodeConfig, attempt = 0): PodSandboxConfig {
  checkPod(pod);
  const mappings = podPortMappings(pod);
  return {
    metadata: { name: pod.name, uid: pod.uid, namespace: pod.namespace, attempt },
    hostname: pod.hostname ?? pod.name,
    logDirectory: podLogDirectory(node.logRoot, pod),
    dnsConfig: podDnsConfig(pod, node),
    ...(mappings.length > 0 ? { portMappings: mappings } : {}),
    labels: podLabels(pod),
    annotations: { ...(pod.annotations ?? {}) },
    linux: {
      cgroupParent: podCgroupParent(node, pod),
      sysctls: {},
      securityContext: {
        namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
        privileged: false,
        // the kubelet runs every sandbox with the runtime's default seccomp profile
        seccomp: { profileType: 'RuntimeDefault' },
      },
    },
  };
}

/** The kubelet's container hash annotation: a stable digest of the container's spec. */
function containerHash(c: ContainerSpec): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 8);
}

/** CreateContainer's config for container `c` of `pod` (the kubelet's generateContainerConfig). */
export function containerConfig(pod: PodSpec, c: ContainerSpec, attempt = 0): ContainerConfig {
  const envs: KeyValue[] = Object.entries(c.env ?? {}).map(([key, value]) => ({ key, value }));
  return {
    metadata: { name: c.name, attempt },
    image: { image: c.image },
    ...(c.command ? { command: c.command } : {}),
    ...(c.args ? { args: c.args } : {}),
    envs,
    labels: { [CONTAINER_NAME_LABEL]: c.name, [POD_NAME_LABEL]: pod.name, [POD_NAMESPACE_LABEL]: pod.namespace, [POD_UID_LABEL]: pod.uid },
    annotations: {
      'io.kubernetes.container.hash': containerHash(c),
      'io.kubernetes.container.restartCount': String(attempt),
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': String(pod.terminationGracePeriodSeconds ?? 30),
      ...(c.ports?.length ? { 'io.kubernetes.container.ports': JSON.stringify(c.ports) } : {}),
    },
    // relative to the sandbox's log directory, as the kubelet writes it
    logPath: `${c.name}/${attempt}.log`,
    linux: {
      securityContext: {
        namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
        // no seccomp in the pod spec: the kubelet asks for none (SeccompDefault off)
        seccomp: { profileType: 'Unconfined' },
      },
    },
  };
}
