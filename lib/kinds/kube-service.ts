/**
 * A Kubernetes Service of type ClusterIP or NodePort as netmaster's Kubernetes controller stores
 * it (issue 19; key `namespace:name`): its cluster IP (the API server's allocation, outside every
 * pod network) and its ports. Its endpoints are stored apart, one object per EndpointSlice
 * (kube-service-slice.ts), so that large Services fit. Headless and ExternalName Services are not
 * stored. Read-only over REST: kubectl is where they change.
 */
import ipaddr from 'ipaddr.js';
import { KUBE_LIMITS } from '../kube-syntax';
import { defineKind } from './kind';
import { kubeFieldsOf } from './kube-fields';

export const KUBE_SERVICE_TYPES = ['ClusterIP', 'NodePort'] as const;
export const KUBE_TRAFFIC_POLICIES = ['Cluster', 'Local'] as const;

export const kubeServiceKind = defineKind({
  type: 'kubeService',
  collection: 'kubeServices',
  label: 'Kubernetes Service',
  key: ['namespace', 'name'],
  keyMax: KUBE_LIMITS.subdomain,
  scope: 'global',
  readOnlySource: 'the Kubernetes API (netmaster stores Services and their EndpointSlices from it): change them with kubectl',
  schema: (z, f) => {
    const k = kubeFieldsOf(z, f);
    const ipv4 = (what: string) =>
      f.text(what, 15).refine((s) => ipaddr.IPv4.isValidFourPartDecimal(s), { error: `${what} must be an IPv4 address` });
    const port = z.object(
      {
        /** '' for the only port of a Service */
        name: z.union([z.literal(''), k.portName('name')]).default(''),
        protocol: k.protocol('protocol'),
        port: f.int('port', 1, 65535),
        /** 0: none */
        nodePort: f.int('nodePort', 0, 65535).default(0),
      },
      { error: 'ports entries must be objects' },
    );
    return z
      .object({
        ...f.placeholders,
        namespace: k.dnsLabel('namespace'),
        name: k.dnsLabel('name'),
        type: z.enum(KUBE_SERVICE_TYPES, { error: 'type must be ClusterIP or NodePort' }).default('ClusterIP'),
        clusterIP: ipv4('clusterIP'),
        /** node ports: Cluster, every host answers (SNAT); Local, only hosts with a local endpoint (client address kept) */
        externalTrafficPolicy: z
          .enum(KUBE_TRAFFIC_POLICIES, { error: 'externalTrafficPolicy must be Cluster or Local' })
          .default('Cluster'),
        ports: f.list('ports', port).default([]),
      })
      .superRefine((s, ctx) => {
        const seen = new Set<string>();
        s.ports.forEach((p, i) => {
          const key = `${p.protocol}/${p.port}`;
          if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `port ${key} is listed twice`, path: ['ports', i, 'port'] });
          seen.add(key);
          if (p.nodePort !== 0 && s.type !== 'NodePort')
            ctx.addIssue({ code: 'custom', message: 'nodePort is only for type NodePort', path: ['ports', i, 'nodePort'] });
        });
      });
  },
  references: [],
  netctl: {
    nameField: 'name',
    linkSets: false,
    links: false,
    columns: [
      { header: 'Namespace', underline: '---------', field: 'namespace' },
      { header: 'Name', underline: '----', field: 'name' },
      { header: 'Type', underline: '----', field: 'type' },
      { header: 'ClusterIP', underline: '---------', field: 'clusterIP' },
    ],
  },
});
