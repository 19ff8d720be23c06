/** Service validation: the checks of kube-apiserver's ValidateService a manifest meets most (type, ports, selector). */
import { duplicate, invalid, notSupported, required, root, type FieldError } from '../field-errors';
import { isObject, type JsonObject } from '../json';
import { isDns1123Label, isValidPortName, isValidPortNum } from './names';
import { validateLabels } from './object-meta';

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

export function validateServiceSpec(spec: JsonObject): FieldError[] {
  const path = root('spec');
  const out: FieldError[] = [];
  const type = spec.type ?? 'ClusterIP';
  if (!TYPES.includes(String(type))) out.push(notSupported(path.child('type'), type, TYPES));
  const ports = Array.isArray(spec.ports) ? spec.ports.filter(isObject) : [];
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && !headless && type !== 'ExternalName') out.push(required(path.child('ports')));
  if (type === 'ExternalName' && (typeof spec.externalName !== 'string' || spec.externalName === ''))
    out.push(required(path.child('externalName')));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const pp = path.child('ports').index(i);
    const name = typeof p.name === 'string' ? p.name : '';
    if (ports.length > 1 && name === '') out.push(required(pp.child('name')));
    else if (name !== '') {
      for (const m of isDns1123Label(name)) out.push(invalid(pp.child('name'), name, m));
      if (names.has(name)) out.push(duplicate(pp.child('name'), name));
      names.add(name);
    }
    if (p.port === undefined) out.push(required(pp.child('port')));
    else for (const m of isValidPortNum(Number(p.port))) out.push(invalid(pp.child('port'), p.port, m));
    if (!PROTOCOLS.includes(String(p.protocol))) out.push(notSupported(pp.child('protocol'), p.protocol ?? '', PROTOCOLS));
    const target = p.targetPort;
    if (typeof target === 'number') for (const m of isValidPortNum(target)) out.push(invalid(pp.child('targetPort'), target, m));
    else if (typeof target === 'string') for (const m of isValidPortName(target)) out.push(invalid(pp.child('targetPort'), target, m));
  });
  out.push(...validateLabels(spec.selector, path.child('selector')));
  return out;
}

/** What an update of a Service may not change. */
export function validateServiceUpdate(spec: JsonObject, old: JsonObject): FieldError[] {
  const path = root('spec');
  const out: FieldError[] = [];
  const was = old.clusterIP;
  if (typeof was === 'string' && was !== '' && spec.type !== 'ExternalName' && old.type !== 'ExternalName' && spec.clusterIP !== was)
    out.push(invalid(path.child('clusterIPs').index(0), spec.clusterIP ?? '', 'may not change once set'));
  return out;
}
