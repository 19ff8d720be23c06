/**
 * NetworkPolicy validation as kube-apiserver's (pkg/apis/networking/validation): selectors,
 * ports (protocol, number or IANA name, endPort), peers (at least one selector or an ipBlock, an
 * ipBlock alone), ipBlock CIDRs with `except` strictly inside `cidr`, policyTypes. Every error
 * names its field path, as the real server's 422 does.
 */
import ipaddr from 'ipaddr.js';
import { forbidden, invalid, notSupported, required, root, type FieldError, type FieldPath } from '../field-errors';
import { isObject, type JsonObject } from '../json';
import { validateLabelSelector } from './label-selector';
import { isValidPortName, isValidPortNum } from './names';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const CIDR_INVALID = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

function validatePort(port: JsonObject, path: FieldPath): FieldError[] {
  const out: FieldError[] = [];
  if (port.protocol !== undefined && !PROTOCOLS.includes(String(port.protocol)))
    out.push(notSupported(path.child('protocol'), port.protocol, PROTOCOLS));
  const end = port.endPort;
  if (port.port !== undefined) {
    if (typeof port.port === 'number') {
      for (const m of isValidPortNum(port.port)) out.push(invalid(path.child('port'), port.port, m));
      if (typeof end === 'number') {
        if (end < port.port) out.push(invalid(path.child('endPort'), end, 'must be greater than or equal to `port`'));
        for (const m of isValidPortNum(end)) out.push(invalid(path.child('endPort'), end, m));
      }
    } else {
      if (end !== undefined) out.push(invalid(path.child('endPort'), end, 'may not be specified when `port` is non-numeric'));
      for (const m of isValidPortName(String(port.port))) out.push(invalid(path.child('port'), port.port, m));
    }
  } else if (end !== undefined) out.push(invalid(path.child('endPort'), end, 'may not be specified when `port` is not specified'));
  return out;
}

/** A CIDR as Go's net.ParseCIDR reads it (host bits may be set), or undefined. */
function parseCidr(s: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  if (!/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(s)) return undefined;
  try {
    return ipaddr.parseCIDR(s);
  } catch {
    return undefined;
  }
}

function validateIpBlock(block: JsonObject, path: FieldPath): FieldError[] {
  const cidr = typeof block.cidr === 'string' ? block.cidr : '';
  if (cidr === '') return [required(path.child('cidr'))];
  const net = parseCidr(cidr);
  if (!net) return [invalid(path.child('cidr'), cidr, CIDR_INVALID)];
  const out: FieldError[] = [];
  const excepts = Array.isArray(block.except) ? block.except : [];
  excepts.forEach((e, i) => {
    const p = path.child('except').index(i);
    const ex = parseCidr(String(e));
    if (!ex) {
      out.push(invalid(p, e, CIDR_INVALID));
      return;
    }
    const inside = ex[0].kind() === net[0].kind() && ex[0].match(net) && ex[1] > net[1];
    if (!inside) out.push(invalid(p, e, 'must be a strict subset of `cidr`'));
  });
  return out;
}

function validatePeer(peer: JsonObject, path: FieldPath): FieldError[] {
  const out: FieldError[] = [];
  let n = 0;
  if (peer.podSelector !== undefined) {
    n++;
    out.push(...validateLabelSelector(peer.podSelector, path.child('podSelector')));
  }
  if (peer.namespaceSelector !== undefined) {
    n++;
    out.push(...validateLabelSelector(peer.namespaceSelector, path.child('namespaceSelector')));
  }
  if (peer.ipBlock !== undefined) {
    n++;
    out.push(...validateIpBlock(isObject(peer.ipBlock) ? peer.ipBlock : {}, path.child('ipBlock')));
  }
  if (n === 0) out.push(required(path, 'must specify a peer'));
  else if (n > 1 && peer.ipBlock !== undefined) out.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return out;
}

const objects = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.map((x) => (isObject(x) ? x : {})) : []);

export function validateNetworkPolicySpec(spec: JsonObject, path: FieldPath = root('spec')): FieldError[] {
  const out = validateLabelSelector(spec.podSelector, path.child('podSelector'));
  for (const [dir, peers] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    objects(spec[dir]).forEach((rule, i) => {
      const p = path.child(dir).index(i);
      objects(rule.ports).forEach((port, j) => out.push(...validatePort(port, p.child('ports').index(j))));
      objects(rule[peers]).forEach((peer, j) => out.push(...validatePeer(peer, p.child(peers).index(j))));
    });
  }
  const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
  if (types.length > 2) {
    out.push(invalid(path.child('policyTypes'), types, 'may not specify more than two policyTypes'));
    return out;
  }
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') out.push(notSupported(path.child('policyTypes').index(i), t, ['Ingress', 'Egress']));
  });
  return out;
}
