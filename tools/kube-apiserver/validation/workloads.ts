/**
 * The parts of kube-apiserver's Pod, Deployment and DaemonSet validation that catch what a
 * manifest most often gets wrong: containers (name, image, ports), the template's labels against
 * the selector, the selector never changing. Not the whole of core/validation.
 */
import { duplicate, invalid, notSupported, required, root, type FieldError, type FieldPath } from '../field-errors';
import { isObject, jsonEqual, type JsonObject } from '../json';
import { matchesLabels } from '../label-selector';
import { labelSelectorRequirements } from '../selectors-object';
import { validateLabelSelector } from './label-selector';
import { isDns1123Label, isValidPortName, isValidPortNum } from './names';
import { validateLabels } from './object-meta';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];

const objects = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.map((x) => (isObject(x) ? x : {})) : []);

function validateContainers(list: unknown, path: FieldPath, requireOne: boolean, names: Set<string>): FieldError[] {
  const out: FieldError[] = [];
  const containers = objects(list);
  if (requireOne && containers.length === 0) out.push(required(path));
  containers.forEach((c, i) => {
    const p = path.index(i);
    const name = typeof c.name === 'string' ? c.name : '';
    if (name === '') out.push(required(p.child('name')));
    else {
      for (const m of isDns1123Label(name)) out.push(invalid(p.child('name'), name, m));
      if (names.has(name)) out.push(duplicate(p.child('name'), name));
      names.add(name);
    }
    if (typeof c.image !== 'string' || c.image.trim() === '') out.push(required(p.child('image')));
    const portNames = new Set<string>();
    objects(c.ports).forEach((port, j) => {
      const pp = p.child('ports').index(j);
      if (port.name !== undefined) {
        const n = String(port.name);
        for (const m of isValidPortName(n)) out.push(invalid(pp.child('name'), n, m));
        if (portNames.has(n)) out.push(duplicate(pp.child('name'), n));
        portNames.add(n);
      }
      if (port.containerPort === undefined) out.push(required(pp.child('containerPort')));
      else for (const m of isValidPortNum(Number(port.containerPort))) out.push(invalid(pp.child('containerPort'), port.containerPort, m));
      if (port.hostPort !== undefined && port.hostPort !== 0)
        for (const m of isValidPortNum(Number(port.hostPort))) out.push(invalid(pp.child('hostPort'), port.hostPort, m));
      if (port.protocol === undefined) out.push(required(pp.child('protocol')));
      else if (!PROTOCOLS.includes(String(port.protocol))) out.push(notSupported(pp.child('protocol'), port.protocol, PROTOCOLS));
    });
  });
  return out;
}

export function validatePodSpec(spec: unknown, path: FieldPath): FieldError[] {
  const s = isObject(spec) ? spec : {};
  const names = new Set<string>();
  const out = [
    ...validateContainers(s.containers, path.child('containers'), true, names),
    ...validateContainers(s.initContainers, path.child('initContainers'), false, names),
  ];
  if (s.restartPolicy !== undefined && !RESTART_POLICIES.includes(String(s.restartPolicy)))
    out.push(notSupported(path.child('restartPolicy'), s.restartPolicy, RESTART_POLICIES));
  return out;
}

/** A Deployment's or DaemonSet's spec: a selector, a template whose labels it selects, a valid pod spec. */
export function validateWorkloadSpec(spec: unknown, path: FieldPath = root('spec')): FieldError[] {
  const s = isObject(spec) ? spec : {};
  const out: FieldError[] = [];
  const selector = s.selector;
  const template = isObject(s.template) ? s.template : {};
  const meta = isObject(template.metadata) ? template.metadata : {};
  const labels = isObject(meta.labels) ? (meta.labels as Record<string, string>) : {};
  if (!isObject(selector)) out.push(required(path.child('selector')));
  else {
    out.push(...validateLabelSelector(selector, path.child('selector')));
    const reqs = labelSelectorRequirements(selector);
    if (reqs.length === 0) out.push(invalid(path.child('selector'), selector, 'empty selector is invalid for deployment'));
    else if (!matchesLabels(reqs, labels))
      out.push(invalid(path.child('template').child('metadata').child('labels'), labels, '`selector` does not match template `labels`'));
  }
  out.push(...validateLabels(meta.labels, path.child('template').child('metadata').child('labels')));
  out.push(...validatePodSpec(template.spec, path.child('template').child('spec')));
  if (s.replicas !== undefined && (typeof s.replicas !== 'number' || s.replicas < 0))
    out.push(invalid(path.child('replicas'), s.replicas, 'must be greater than or equal to 0'));
  return out;
}

/** apps/v1 selectors cannot change. */
export function validateSelectorUnchanged(spec: unknown, oldSpec: unknown, path: FieldPath = root('spec')): FieldError[] {
  const sel = isObject(spec) ? spec.selector : undefined;
  const old = isObject(oldSpec) ? oldSpec.selector : undefined;
  return jsonEqual(sel ?? null, old ?? null) ? [] : [invalid(path.child('selector'), sel ?? null, 'field is immutable')];
}
