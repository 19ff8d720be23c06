/**
 * The upstream NetworkPolicy model (netpol-scenarios.ts) as Kubernetes manifests, for a real
 * cluster driven with kubectl (pure): namespaces x, y, z with a step's labels, the nine pods
 * (agnhost serving TCP and UDP on 80 and 81, their ports named `serve-<port>-<tcp|udp>` plus the
 * run's extra named ports, pinned to a node by spec.nodeName, with annotations that pick their
 * netloom network), and a step's policies as networking.k8s.io/v1 NetworkPolicies.
 */
import YAML from 'yaml';
import { AGNHOST_IMAGE } from '../../deploy/lab/cri/images';
import {
  NAMESPACES,
  namedPorts,
  namespaceLabels,
  PODS,
  PORTS,
  podLabels,
  type IpOf,
  type NetpolScenario,
  type NetpolStep,
} from './netpol-scenarios';

type Manifest = Record<string, unknown>;

/** The namespaces with the step's labels (the name label is the API server's, left out). */
export function namespaceManifests(step: NetpolStep): Manifest[] {
  return NAMESPACES.map((ns) => {
    const { ['kubernetes.io/metadata.name']: _auto, ...labels } = namespaceLabels(step, ns);
    return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } };
  });
}

export interface PodPlacement {
  /** the node of `ns/name` */
  nodeOf: (pod: string) => string;
  /** annotations every pod carries (netloom.io/network, ...) */
  annotations: Record<string, string>;
}

type Port = { name: string; containerPort: number; protocol: string };

/**
 * Each pod's container ports for a run of `scenarios`: the `serve-*` ports plus every extra named
 * port any of their steps gives it. A pod's ports cannot change, so the pods are made once with
 * all of them (a named port only matters to a policy naming it; only the named-ports scenario
 * does); a pod given one name for two ports would need two pods, and is refused.
 */
export function runPorts(scenarios: readonly NetpolScenario[]): Map<string, Port[]> {
  const out = new Map<string, Port[]>();
  for (const pod of PODS) {
    const byKey = new Map<string, Port>();
    for (const sc of scenarios)
      for (const step of sc.steps)
        for (const p of namedPorts(step, pod)) {
          const key = `${p.name}/${p.protocol}`;
          const had = byKey.get(key);
          if (had && had.containerPort !== p.containerPort)
            throw new Error(`${pod}: port ${key} is ${had.containerPort} in one step and ${p.containerPort} in another (${sc.name})`);
          byKey.set(key, { name: p.name, containerPort: p.containerPort, protocol: p.protocol });
        }
    out.set(
      pod,
      [...byKey.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : 1)),
    );
  }
  return out;
}

export function podManifest(step: NetpolStep, pod: string, place: PodPlacement, ports: readonly Port[]): Manifest {
  const [namespace, name] = pod.split('/') as [string, string];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: podLabels(step, pod), annotations: place.annotations },
    spec: {
      nodeName: place.nodeOf(pod),
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'agnhost',
          image: AGNHOST_IMAGE,
          args: ['serve', ...PORTS.flatMap((p) => ['--port', String(p)])],
          ports,
        },
      ],
    },
  };
}

/** The step's policies, by `namespace/name`. */
export function policyManifests(step: NetpolStep, ipOf: IpOf): Map<string, Manifest> {
  return new Map(
    step
      .policies(ipOf)
      .map((p) => [
        `${p.namespace}/${p.name}`,
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: p.name, namespace: p.namespace }, spec: p.spec },
      ]),
  );
}

/**
 * Manifests as one multi-document YAML stream (what `kubectl apply -f -` reads), in YAML 1.1 as
 * kubectl reads it: `y`, `n`, `on`... are booleans there, so such strings are quoted (namespace y).
 */
export function yamlStream(manifests: readonly Manifest[]): string {
  return manifests.map((m) => YAML.stringify(m, { version: '1.1' })).join('---\n');
}
