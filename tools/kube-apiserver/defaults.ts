/**
 * The defaults kube-apiserver fills in on write (k8s.io/api's SetDefaults_*), for the fields a
 * reader of these objects relies on: protocols TCP, a Service's type and targetPort, a
 * NetworkPolicy's policyTypes, a Pod's restart/DNS policies, container pull policy and volume
 * modes, the workloads' strategies and history limits.
 */
import { isObject, type Json, type JsonObject } from './json';

const obj = (parent: JsonObject, key: string): JsonObject => {
  const v = parent[key];
  if (isObject(v)) return v;
  const fresh: JsonObject = {};
  parent[key] = fresh;
  return fresh;
};
const objects = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);

function defaultContainer(c: JsonObject): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const lastPart = c.image.split('/').pop() ?? '';
    const tagged = lastPart.includes(':') && !c.image.includes('@');
    c.imagePullPolicy = !c.image.includes('@') && (!tagged || c.image.endsWith(':latest')) ? 'Always' : 'IfNotPresent';
  }
  c.resources ??= {};
  for (const p of objects(c.ports)) p.protocol ??= 'TCP';
  for (const e of objects(c.env)) {
    const ref = isObject(e.valueFrom) && isObject(e.valueFrom.fieldRef) ? e.valueFrom.fieldRef : undefined;
    if (ref) ref.apiVersion ??= 'v1';
  }
}

/** Volume sources' file modes (0644) and a hostPath's type (''). */
function defaultVolume(v: JsonObject): void {
  for (const source of ['configMap', 'secret', 'projected', 'downwardAPI']) {
    const s = v[source];
    if (isObject(s)) s.defaultMode ??= 420;
  }
  if (isObject(v.hostPath)) v.hostPath.type ??= '';
}

function defaultPodSpec(spec: JsonObject): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= typeof spec.serviceAccount === 'string' ? spec.serviceAccount : 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.priority ??= 0;
  for (const c of [...objects(spec.containers), ...objects(spec.initContainers)]) defaultContainer(c);
  for (const v of objects(spec.volumes)) defaultVolume(v);
}

function defaultPodTemplate(spec: JsonObject): void {
  defaultPodSpec(obj(obj(spec, 'template'), 'spec'));
}

export const DEFAULTS: Record<string, (o: JsonObject) => void> = {
  Pod: (o) => defaultPodSpec(obj(o, 'spec')),
  Service: (o) => {
    const spec = obj(o, 'spec');
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
    if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
    for (const p of objects(spec.ports)) {
      p.protocol ??= 'TCP';
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port ?? null;
    }
  },
  NetworkPolicy: (o) => {
    const spec = obj(o, 'spec');
    spec.podSelector ??= {};
    for (const dir of ['ingress', 'egress'])
      for (const rule of objects(spec[dir])) for (const p of objects(rule.ports)) p.protocol ??= 'TCP';
    if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0)
      spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  },
  Deployment: (o) => {
    const spec = obj(o, 'spec');
    spec.replicas ??= 1;
    const strategy = obj(spec, 'strategy');
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const ru = obj(strategy, 'rollingUpdate');
      ru.maxUnavailable ??= '25%';
      ru.maxSurge ??= '25%';
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultPodTemplate(spec);
  },
  DaemonSet: (o) => {
    const spec = obj(o, 'spec');
    const strategy = obj(spec, 'updateStrategy');
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const ru = obj(strategy, 'rollingUpdate');
      ru.maxUnavailable ??= 1;
      ru.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    defaultPodTemplate(spec);
  },
  EndpointSlice: (o) => {
    for (const p of objects(o.ports)) p.protocol ??= 'TCP';
  },
  Secret: (o) => {
    o.type ??= 'Opaque';
  },
  Namespace: (o) => {
    const spec = obj(o, 'spec');
    spec.finalizers ??= ['kubernetes'];
  },
};
