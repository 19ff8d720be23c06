/**
 * What differs per resource on write, as kube-apiserver's per-resource strategies have it: the
 * name rule, what create resets or fills (status, the namespace name label, defaults), the
 * validation, and what an update may not change. Everything else is the same for all resources
 * (registry.ts).
 */
import { invalid, required, root, type FieldError } from './field-errors';
import { isObject, type JsonObject } from './json';
import { DEFAULTS } from './defaults';
import { validateNetworkPolicySpec } from './validation/network-policy';
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isValidPathSegmentName } from './validation/names';
import { validateServiceSpec, validateServiceUpdate } from './validation/service';
import { validatePodSpec, validateSelectorUnchanged, validateWorkloadSpec } from './validation/workloads';

/** The label every Namespace carries with its own name (since Kubernetes 1.21; NetworkPolicy namespaceSelectors use it). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface Strategy {
  nameCheck(name: string): string[];
  /** fill and reset what a create sets (after the defaults) */
  prepareCreate?(o: JsonObject): void;
  /** keep what an update of the main resource may not set */
  prepareUpdate?(o: JsonObject, old: JsonObject): void;
  validate?(o: JsonObject): FieldError[];
  validateUpdate?(o: JsonObject, old: JsonObject): FieldError[];
}

const spec = (o: JsonObject): JsonObject => (isObject(o.spec) ? o.spec : {});

function setNamespaceLabel(o: JsonObject): void {
  const meta = isObject(o.metadata) ? o.metadata : (o.metadata = {});
  const labels = isObject(meta.labels) ? meta.labels : (meta.labels = {});
  labels[NAMESPACE_NAME_LABEL] = String(meta.name ?? '');
}

function qosClass(pod: JsonObject): string {
  const containers = Array.isArray(spec(pod).containers) ? (spec(pod).containers as JsonObject[]) : [];
  const any = containers.some((c) => {
    const r = isObject(c.resources) ? c.resources : {};
    return (isObject(r.limits) && Object.keys(r.limits).length > 0) || (isObject(r.requests) && Object.keys(r.requests).length > 0);
  });
  return any ? 'Burstable' : 'BestEffort';
}

const subdomain: Strategy = { nameCheck: isDns1123Subdomain };

const workload: Strategy = {
  nameCheck: isDns1123Subdomain,
  prepareCreate: (o) => {
    o.status = {};
  },
  validate: (o) => validateWorkloadSpec(o.spec),
  validateUpdate: (o, old) => validateSelectorUnchanged(o.spec, old.spec),
};

const STRATEGIES: Record<string, Strategy> = {
  Namespace: {
    nameCheck: isDns1123Label,
    prepareCreate: (o) => {
      o.status = { phase: 'Active' };
      setNamespaceLabel(o);
    },
    prepareUpdate: setNamespaceLabel,
  },
  Pod: {
    nameCheck: isDns1123Subdomain,
    prepareCreate: (o) => {
      o.status = { phase: 'Pending', qosClass: qosClass(o) };
    },
    validate: (o) => validatePodSpec(o.spec, root('spec')),
    validateUpdate: (o, old) => {
      // a pod's containers cannot be added or removed, nor its node changed once set
      const out: FieldError[] = [];
      const oldNode = spec(old).nodeName;
      if (oldNode !== undefined && spec(o).nodeName !== oldNode)
        out.push(invalid(root('spec').child('nodeName'), spec(o).nodeName ?? '', 'field is immutable'));
      return out;
    },
  },
  Service: {
    nameCheck: isDns1035Label,
    prepareCreate: (o) => {
      o.status = { loadBalancer: {} };
    },
    validate: (o) => validateServiceSpec(spec(o)),
    validateUpdate: (o, old) => validateServiceUpdate(spec(o), spec(old)),
  },
  NetworkPolicy: { nameCheck: isDns1123Subdomain, validate: (o) => validateNetworkPolicySpec(spec(o)) },
  Deployment: workload,
  DaemonSet: workload,
  Node: subdomain,
  ConfigMap: subdomain,
  Secret: subdomain,
  ServiceAccount: subdomain,
  Event: {
    nameCheck: isValidPathSegmentName,
    validate: (o) => (isObject(o.involvedObject) ? [] : [required(root('involvedObject'))]),
  },
  EndpointSlice: {
    nameCheck: isDns1123Subdomain,
    validate: (o) =>
      ['IPv4', 'IPv6', 'FQDN'].includes(String(o.addressType))
        ? []
        : o.addressType === undefined
          ? [required(root('addressType'))]
          : [
              {
                type: 'FieldValueNotSupported',
                field: 'addressType',
                value: o.addressType,
                detail: 'supported values: "FQDN", "IPv4", "IPv6"',
              },
            ],
  },
  ClusterRole: { nameCheck: isValidPathSegmentName },
  Role: { nameCheck: isValidPathSegmentName },
  ClusterRoleBinding: { nameCheck: isValidPathSegmentName, validate: (o) => (isObject(o.roleRef) ? [] : [required(root('roleRef'))]) },
  RoleBinding: { nameCheck: isValidPathSegmentName, validate: (o) => (isObject(o.roleRef) ? [] : [required(root('roleRef'))]) },
};

export function strategyOf(kind: string): Strategy {
  return STRATEGIES[kind] ?? subdomain;
}

export function applyDefaults(kind: string, o: JsonObject): void {
  DEFAULTS[kind]?.(o);
}
