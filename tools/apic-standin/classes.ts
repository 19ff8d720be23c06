/**
 * The part of ACI's management information model the stand-in enforces: for each class, the
 * classes that may contain it, how its RN is formed from its naming properties, and the
 * properties it has with their value checks. Written from the APIC model reference, apart from
 * netmaster's own RN code on purpose: a mistake in one is caught by the other.
 */
import { ApicError } from './apic-error';

type Check = (v: string) => string | undefined;

export interface ClassRule {
  /** classes that may contain this one ('' = it hangs under the root of the DN, `uni`) */
  parents: readonly string[];
  /** the RN from the (merged) properties */
  rn: (a: Readonly<Record<string, string>>) => string;
  /** properties beyond the common ones, with the check of each value (undefined: any text) */
  props: Readonly<Record<string, Check | undefined>>;
  /** a check across properties (port ranges) */
  check?: (a: Readonly<Record<string, string>>) => string | undefined;
}

const NAME = /^[a-zA-Z0-9_.:-]{1,64}$/;
const name: Check = (v) => (NAME.test(v) ? undefined : 'must be 1-64 of letters, digits, _ . : -');
const optName: Check = (v) => (v === '' ? undefined : name(v));
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`;

const encap: Check = (v) => {
  const m = /^vlan-(\d{1,4})$/.exec(v);
  const n = Number(m?.[1]);
  return m && n >= 1 && n <= 4094 ? undefined : 'must be vlan-N with N in 1-4094';
};
const pathDn: Check = (v) =>
  /^topology\/pod-\d+\/(paths-\d+|protpaths-\d+-\d+)\/pathep-\[[^\]]+\]$/.test(v)
    ? undefined
    : 'must be topology/pod-N/paths-N/pathep-[IF] or topology/pod-N/protpaths-N-N/pathep-[IF]';
const nodeDn: Check = (v) => (/^topology\/pod-\d+\/node-\d+$/.test(v) ? undefined : 'must be topology/pod-N/node-N');
const domDn: Check = (v) =>
  /^uni\/(phys-[a-zA-Z0-9_.:-]+|vmmp-[A-Za-z]+\/dom-[a-zA-Z0-9_.:-]+)$/.test(v)
    ? undefined
    : 'must be uni/phys-NAME or uni/vmmp-VENDOR/dom-NAME';

const NAMED_PORTS = ['unspecified', 'ftpData', 'smtp', 'dns', 'http', 'pop3', 'https', 'rtsp'];
const PORT_NUMBERS: Record<string, number> = { ftpData: 20, smtp: 25, dns: 53, http: 80, pop3: 110, https: 443, rtsp: 554 };
const port: Check = (v) =>
  NAMED_PORTS.includes(v) || (/^\d{1,5}$/.test(v) && Number(v) <= 65535)
    ? undefined
    : `must be 0-65535 or one of ${NAMED_PORTS.join(', ')}`;
const portNumber = (v: string | undefined): number | undefined =>
  v === undefined || v === 'unspecified' ? undefined : (PORT_NUMBERS[v] ?? Number(v));

const PROTOCOLS = ['unspecified', 'icmp', 'igmp', 'tcp', 'egp', 'igp', 'udp', 'icmpv6', 'eigrp', 'ospfigp', 'pim', 'l2tp'];
const prot: Check = (v) =>
  PROTOCOLS.includes(v) || (/^\d{1,3}$/.test(v) && Number(v) <= 255) ? undefined : `must be 0-255 or one of ${PROTOCOLS.join(', ')}`;
const etherT = oneOf('unspecified', 'ipv4', 'ipv6', 'arp', 'fcoe', 'ip', 'mac_security', 'mpls_ucast', 'trill');
const subnetIp: Check = (v) => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
  return m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32 ? undefined : 'must be an IPv4 address/prefix';
};
const subnetScope: Check = (v) =>
  v.split(',').every((s) => ['private', 'public', 'shared'].includes(s))
    ? undefined
    : 'must be private, public and/or shared, comma-separated';
const immediacy = oneOf('immediate', 'lazy');

function portRange(a: Readonly<Record<string, string>>, from: string, to: string): string | undefined {
  const lo = portNumber(a[from]);
  const hi = portNumber(a[to]);
  if ((lo === undefined) !== (hi === undefined)) return `${from} and ${to} must both be set or both unspecified`;
  if (lo !== undefined && hi !== undefined && lo > hi) return `${from} (${lo}) must not be above ${to} (${hi})`;
  return undefined;
}

/** Properties every class has. */
export const COMMON_PROPS = ['name', 'descr', 'nameAlias', 'annotation', 'ownerKey', 'ownerTag', 'status', 'dn', 'rn', 'childAction'];

export const CLASSES: Readonly<Record<string, ClassRule>> = {
  polUni: { parents: [], rn: () => 'uni', props: {} },
  fvTenant: { parents: ['polUni'], rn: (a) => `tn-${a.name ?? ''}`, props: { name } },
  fvCtx: { parents: ['fvTenant'], rn: (a) => `ctx-${a.name ?? ''}`, props: { name, pcEnfPref: oneOf('enforced', 'unenforced') } },
  fvBD: {
    parents: ['fvTenant'],
    rn: (a) => `BD-${a.name ?? ''}`,
    props: { name, arpFlood: oneOf('yes', 'no'), unicastRoute: oneOf('yes', 'no'), unkMacUcastAct: oneOf('flood', 'proxy') },
  },
  fvRsCtx: { parents: ['fvBD'], rn: () => 'rsctx', props: { tnFvCtxName: optName } },
  fvSubnet: { parents: ['fvBD', 'fvAEPg'], rn: (a) => `subnet-[${a.ip ?? ''}]`, props: { ip: subnetIp, scope: subnetScope } },
  fvAp: { parents: ['fvTenant'], rn: (a) => `ap-${a.name ?? ''}`, props: { name } },
  fvAEPg: { parents: ['fvAp'], rn: (a) => `epg-${a.name ?? ''}`, props: { name, pcEnfPref: oneOf('enforced', 'unenforced') } },
  fvRsBd: { parents: ['fvAEPg'], rn: () => 'rsbd', props: { tnFvBDName: optName } },
  fvRsPathAtt: {
    parents: ['fvAEPg'],
    rn: (a) => `rspathAtt-[${a.tDn ?? ''}]`,
    props: { tDn: pathDn, encap, instrImedcy: immediacy, mode: oneOf('regular', 'native', 'untagged') },
    check: (a) => (a.encap ? undefined : 'encap is required'),
  },
  fvRsNodeAtt: {
    parents: ['fvAEPg'],
    rn: (a) => `rsnodeAtt-[${a.tDn ?? ''}]`,
    props: { tDn: nodeDn, encap, instrImedcy: immediacy, mode: oneOf('regular', 'native', 'untagged') },
    check: (a) => (a.encap ? undefined : 'encap is required'),
  },
  fvRsDomAtt: {
    parents: ['fvAEPg'],
    rn: (a) => `rsdomAtt-[${a.tDn ?? ''}]`,
    props: { tDn: domDn, instrImedcy: immediacy, resImedcy: oneOf('immediate', 'lazy', 'pre-provision'), encap },
  },
  fvRsProv: { parents: ['fvAEPg'], rn: (a) => `rsprov-${a.tnVzBrCPName ?? ''}`, props: { tnVzBrCPName: name } },
  fvRsCons: { parents: ['fvAEPg'], rn: (a) => `rscons-${a.tnVzBrCPName ?? ''}`, props: { tnVzBrCPName: name } },
  vzFilter: { parents: ['fvTenant'], rn: (a) => `flt-${a.name ?? ''}`, props: { name } },
  vzEntry: {
    parents: ['vzFilter'],
    rn: (a) => `e-${a.name ?? ''}`,
    props: { name, etherT, prot, dFromPort: port, dToPort: port, sFromPort: port, sToPort: port, stateful: oneOf('yes', 'no') },
    check: (a) => {
      const ports = ['dFromPort', 'dToPort', 'sFromPort', 'sToPort'].some((p) => a[p] !== undefined && a[p] !== 'unspecified');
      if (ports && a.prot !== 'tcp' && a.prot !== 'udp' && a.prot !== '6' && a.prot !== '17') return 'ports need prot tcp or udp';
      if (a.prot !== undefined && a.prot !== 'unspecified' && a.etherT !== 'ip' && a.etherT !== 'ipv4' && a.etherT !== 'ipv6')
        return 'prot needs etherT ip, ipv4 or ipv6';
      return portRange(a, 'dFromPort', 'dToPort') ?? portRange(a, 'sFromPort', 'sToPort');
    },
  },
  vzBrCP: {
    parents: ['fvTenant'],
    rn: (a) => `brc-${a.name ?? ''}`,
    props: { name, scope: oneOf('context', 'tenant', 'global', 'application-profile') },
  },
  vzSubj: {
    parents: ['vzBrCP'],
    rn: (a) => `subj-${a.name ?? ''}`,
    props: { name, revFltPorts: oneOf('yes', 'no'), consMatchT: oneOf('All', 'AtleastOne', 'AtmostOne', 'None') },
  },
  vzRsSubjFiltAtt: { parents: ['vzSubj'], rn: (a) => `rssubjFiltAtt-${a.tnVzFilterName ?? ''}`, props: { tnVzFilterName: name } },
  tagInst: {
    parents: ['fvTenant', 'fvCtx', 'fvBD', 'fvAp', 'fvAEPg', 'vzFilter', 'vzBrCP', 'vzSubj'],
    rn: (a) => `tag-${a.name ?? ''}`,
    props: { name },
  },
};

export function classRule(cls: string): ClassRule {
  const r = CLASSES[cls];
  if (!r) throw ApicError.unknownClass(cls);
  return r;
}

/** Check every property of an object of `cls` (after merging with what it had). */
export function checkProps(cls: string, attrs: Readonly<Record<string, string>>): void {
  const rule = classRule(cls);
  for (const [k, v] of Object.entries(attrs)) {
    if (COMMON_PROPS.includes(k) && !(k in rule.props)) continue;
    if (!(k in rule.props)) throw ApicError.unknownProperty(cls, k);
    if (typeof v !== 'string') throw ApicError.badProperty(cls, k, String(v), 'must be a string');
    const why = rule.props[k]?.(v);
    if (why) throw ApicError.badProperty(cls, k, v, why);
  }
  const why = rule.check?.(attrs);
  if (why) throw new ApicError(400, '103', `${cls}: ${why}`);
}
