/**
 * The field schemas of Kubernetes objects as netloom stores them (issue 19): label maps and
 * selectors, NetworkPolicy peers and ports, and a pod's identity on its endpoint. Kubernetes'
 * own rules apply (lib/kube-syntax.ts); every string, list and map is bounded (limits.ts), and
 * an issue's path names the field (`ingress.0.ports.1.endPort`, `podSelector.matchLabels.app`).
 */
import type { z } from 'zod';
import {
  cidrProblem,
  dns1123LabelProblem,
  dns1123SubdomainProblem,
  exceptProblem,
  KUBE_LIMITS,
  kubeLabelKeyProblem,
  kubeLabelValueProblem,
  portNameProblem,
} from '../kube-syntax';
import type { Fields, Zod } from './fields';
import { LIMITS } from './limits';

export const KUBE_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export function kubeFieldsOf(z: Zod, f: Fields) {
  /** text of at most `max` characters that passes a check of lib/kube-syntax.ts; the message names `what` */
  const checked = (what: string, max: number, problem: (s: string) => string | undefined) =>
    f.text(what, max).refine((s) => problem(s) === undefined, { error: (iss) => `${what}: ${problem(String(iss.input)) ?? 'invalid'}` });
  const dnsLabel = (what: string) => checked(what, KUBE_LIMITS.label, dns1123LabelProblem);
  const dnsSubdomain = (what: string) => checked(what, KUBE_LIMITS.subdomain, dns1123SubdomainProblem);
  const portName = (what: string) => checked(what, KUBE_LIMITS.portName, portNameProblem);
  const protocol = (what: string) => z.enum(KUBE_PROTOCOLS, { error: `${what} must be TCP, UDP or SCTP` }).default('TCP');

  /** Kubernetes labels (at most LIMITS.labels of them, counted before any is checked); an issue's path is the key. */
  const labelMap = (what: string) =>
    z
      .unknown()
      .refine((l) => typeof l !== 'object' || l === null || Object.keys(l).length <= LIMITS.labels, {
        error: `${what} must have at most ${LIMITS.labels} entries`,
        abort: true,
      })
      .pipe(
        z.record(f.text(`${what} key`, LIMITS.labelKey), f.text(`${what} value`, LIMITS.labelValue), {
          error: `${what} must be an object of strings`,
        }),
      )
      .superRefine((labels, ctx) => {
        for (const [k, v] of Object.entries(labels)) {
          const why = kubeLabelKeyProblem(k) ?? kubeLabelValueProblem(v);
          if (why) ctx.addIssue({ code: 'custom', message: `${what}: ${why}`, path: [k.slice(0, 64)], input: v });
        }
      });

  const requirement = (what: string) =>
    z
      .object(
        {
          key: checked('key', LIMITS.labelKey, kubeLabelKeyProblem),
          operator: z.enum(SELECTOR_OPERATORS, { error: 'operator must be In, NotIn, Exists or DoesNotExist' }),
          values: f.list('values', checked('values[]', KUBE_LIMITS.label, kubeLabelValueProblem)).default([]),
        },
        { error: `${what} entries must be objects` },
      )
      .superRefine((r, ctx) => {
        const wantsValues = r.operator === 'In' || r.operator === 'NotIn';
        if (wantsValues && r.values.length === 0)
          ctx.addIssue({ code: 'custom', message: `values must be non-empty when operator is ${r.operator}`, path: ['values'] });
        if (!wantsValues && r.values.length > 0)
          ctx.addIssue({ code: 'custom', message: `values must be empty when operator is ${r.operator}`, path: ['values'] });
      });

  /** A label selector: every matchLabels pair and every expression must hold; empty selects everything. */
  const selector = (what: string) =>
    z.object(
      {
        matchLabels: labelMap('matchLabels').default({}),
        matchExpressions: f.list('matchExpressions', requirement('matchExpressions')).default([]),
      },
      { error: `${what} must be a label selector object` },
    );

  const ipBlock = z
    .object(
      {
        cidr: checked('cidr', 64, cidrProblem),
        except: f.list('except', f.text('except[]', 64)).default([]),
      },
      { error: 'ipBlock must be an object' },
    )
    .superRefine((b, ctx) => {
      b.except.forEach((e, i) => {
        const why = exceptProblem(b.cidr, e);
        if (why) ctx.addIssue({ code: 'custom', message: `except ${e.slice(0, 64)} ${why}`, path: ['except', i] });
      });
    });

  /** One `from`/`to` entry: selectors (both: AND), or an ipBlock alone. */
  const peer = z
    .object(
      {
        podSelector: selector('podSelector').optional(),
        namespaceSelector: selector('namespaceSelector').optional(),
        ipBlock: ipBlock.optional(),
      },
      { error: 'peers entries must be objects' },
    )
    .superRefine((p, ctx) => {
      const selectors = p.podSelector !== undefined || p.namespaceSelector !== undefined;
      if (!selectors && p.ipBlock === undefined)
        ctx.addIssue({ code: 'custom', message: 'a peer must have podSelector, namespaceSelector or ipBlock', path: [] });
      if (selectors && p.ipBlock !== undefined)
        ctx.addIssue({ code: 'custom', message: 'ipBlock may not be combined with podSelector or namespaceSelector', path: ['ipBlock'] });
    });

  /** A port: numeric (with endPort: a range) or named; neither: every port of the protocol. */
  const port = z
    .object(
      {
        protocol: protocol('protocol'),
        port: f.int('port', 1, 65535).optional(),
        namedPort: portName('namedPort').optional(),
        endPort: f.int('endPort', 1, 65535).optional(),
      },
      { error: 'ports entries must be objects' },
    )
    .superRefine((p, ctx) => {
      if (p.port !== undefined && p.namedPort !== undefined)
        ctx.addIssue({ code: 'custom', message: 'port and namedPort may not both be set', path: ['namedPort'] });
      if (p.endPort !== undefined && p.port === undefined)
        ctx.addIssue({ code: 'custom', message: 'endPort needs a numeric port', path: ['endPort'] });
      if (p.endPort !== undefined && p.port !== undefined && p.endPort < p.port)
        ctx.addIssue({ code: 'custom', message: `endPort must be greater than or equal to port (${p.port})`, path: ['endPort'] });
    });

  /** An ingress or egress rule: peers empty = every peer, ports empty = every port. */
  const rule = (what: string) =>
    z.object(
      {
        peers: f.list('peers', peer).default([]),
        ports: f.list('ports', port).default([]),
      },
      { error: `${what} entries must be objects` },
    );

  /** A container port with a name, as a pod declares it (NetworkPolicy resolves named ports on the destination pod). */
  const namedPort = z.object(
    { name: portName('name'), protocol: protocol('protocol'), port: f.int('port', 1, 65535) },
    { error: 'namedPorts entries must be objects' },
  );

  /** The pod an endpoint is (set by the agent from the pod it read). */
  const pod = z.object(
    {
      namespace: dnsLabel('namespace'),
      name: dnsSubdomain('name'),
      uid: f.text('uid', KUBE_LIMITS.uid).default(''),
      namedPorts: f.list('namedPorts', namedPort).default([]),
    },
    { error: 'pod must be an object' },
  );

  return { dnsLabel, dnsSubdomain, portName, protocol, labelMap, selector, rule, pod };
}

export type KubeFields = ReturnType<typeof kubeFieldsOf>;
export type KubePod = z.output<KubeFields['pod']>;
