/**
 * Kubernetes' own syntax rules for what netloom stores from the Kubernetes API (issue 19): object
 * names (DNS-1123 labels and subdomains), label keys and values, named ports (IANA_SVC_NAME) and
 * NetworkPolicy ipBlocks. Each check returns why a value breaks the rule, or undefined: the same
 * wording apimachinery's validation uses, so a refusal reads as the API server's would. Pure.
 */
import ipaddr from 'ipaddr.js';

/** DNS-1123 label: a namespace's name, a label key's name part, a label value's characters. */
const DNS1123_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** the name part of a label key, and a non-empty label value */
const QUALIFIED_NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const SVC_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const KUBE_LIMITS = {
  /** a DNS-1123 label: namespaces, a label key's name part, label values */
  label: 63,
  /** a DNS-1123 subdomain: most object names (pods, NetworkPolicies), a label key's prefix */
  subdomain: 253,
  /** IANA_SVC_NAME: a container port's name */
  portName: 15,
  /** a pod's uid (a UUID: 36 characters; room for other forms) */
  uid: 128,
} as const;

/** The automatic label the API server puts on every namespace (namespaceSelector can name a namespace with it). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export function dns1123LabelProblem(s: string): string | undefined {
  if (s.length === 0) return 'must not be empty';
  if (s.length > KUBE_LIMITS.label) return `must be no more than ${KUBE_LIMITS.label} characters`;
  if (!DNS1123_LABEL_RE.test(s))
    return "must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit";
  return undefined;
}

export function dns1123SubdomainProblem(s: string): string | undefined {
  if (s.length === 0) return 'must not be empty';
  if (s.length > KUBE_LIMITS.subdomain) return `must be no more than ${KUBE_LIMITS.subdomain} characters`;
  if (!DNS1123_SUBDOMAIN_RE.test(s))
    return "must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', starting and ending with a letter or digit";
  return undefined;
}

/** A label key: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63 characters. */
export function kubeLabelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    const p = dns1123SubdomainProblem(prefix);
    if (p) return `a label key's prefix ${p}`;
  }
  if (name.length === 0) return "a label key's name part must not be empty";
  if (name.length > KUBE_LIMITS.label) return `a label key's name part must be no more than ${KUBE_LIMITS.label} characters`;
  if (!QUALIFIED_NAME_RE.test(name))
    return "a label key's name part is letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
  return undefined;
}

/** A label value: empty, or at most 63 of letters, digits, '-', '_', '.', starting and ending with a letter or digit. */
export function kubeLabelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > KUBE_LIMITS.label) return `a label value must be no more than ${KUBE_LIMITS.label} characters`;
  if (!QUALIFIED_NAME_RE.test(value))
    return "a label value is letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
  return undefined;
}

/** IANA_SVC_NAME (RFC 6335): a named port. 1-15 lower case letters, digits and '-', a letter at least, no '--', no '-' at either end. */
export function portNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a port name must not be empty';
  if (name.length > KUBE_LIMITS.portName) return `a port name must be no more than ${KUBE_LIMITS.portName} characters`;
  if (!SVC_NAME_RE.test(name)) return "a port name is lower case letters, digits and '-', starting and ending with a letter or digit";
  if (name.includes('--')) return "a port name must not contain '--'";
  if (!/[a-z]/.test(name)) return 'a port name must contain at least one letter';
  return undefined;
}

function parseCidr(s: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    return ipaddr.parseCIDR(s);
  } catch {
    return undefined;
  }
}

export function cidrProblem(s: string): string | undefined {
  return parseCidr(s) ? undefined : 'must be a CIDR (an IPv4 or IPv6 address and a prefix length, like 10.0.0.0/16)';
}

/** Why `except` cannot be an exception of ipBlock `cidr` (a CIDR strictly inside it, as the API server requires), or undefined. */
export function exceptProblem(cidr: string, except: string): string | undefined {
  const outer = parseCidr(cidr);
  const inner = parseCidr(except);
  if (!inner) return cidrProblem(except);
  if (!outer) return undefined; // the cidr's own problem is reported on cidr
  if (inner[0].kind() !== outer[0].kind()) return `must be of the address family of cidr ${cidr}`;
  if (inner[1] <= outer[1] || !inner[0].match(outer)) return `must be strictly within cidr ${cidr}`;
  return undefined;
}
