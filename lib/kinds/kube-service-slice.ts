/**
 * One EndpointSlice of a Kubernetes Service as netmaster's Kubernetes controller stores it (key
 * `namespace:service:slice`): its ready IPv4 endpoints and its ports. A Service's endpoints are
 * kept apart from the Service (kube-service.ts), one object per slice, so that a Service of
 * thousands of endpoints fits the store's limits (LIMITS.list entries, LIMITS.objectBytes per
 * object) and a change of one slice rewrites that slice only, as Kubernetes itself split Endpoints
 * into EndpointSlices for. The agents' views merge a Service with its slices
 * (netmaster/agent/kube-service-view.ts). A slice past the limits is refused (the controller posts
 * a Warning Event on the Service). Read-only over REST: kubectl is where they change.
 */
import ipaddr from 'ipaddr.js';
import { KUBE_LIMITS } from '../kube-syntax';
import { defineKind } from './kind';
import { kubeFieldsOf } from './kube-fields';

export const kubeServiceSliceKind = defineKind({
  type: 'kubeServiceSlice',
  collection: 'kubeServiceSlices',
  label: 'Kubernetes EndpointSlice',
  key: ['namespace', 'service', 'slice'],
  keyMax: KUBE_LIMITS.subdomain,
  scope: 'global',
  readOnlySource: 'the Kubernetes API (netmaster stores Services and their EndpointSlices from it): change them with kubectl',
  schema: (z, f) => {
    const k = kubeFieldsOf(z, f);
    const port = z.object(
      {
        /** the Service port's name it serves ('' for a Service's only, unnamed port) */
        name: z.union([z.literal(''), k.portName('name')]).default(''),
        protocol: k.protocol('protocol'),
        /** the endpoints' port (a named targetPort resolved on their pods) */
        port: f.int('port', 1, 65535),
      },
      { error: 'ports entries must be objects' },
    );
    const endpoint = z.object(
      {
        ip: f.text('ip', 15).refine((s) => ipaddr.IPv4.isValidFourPartDecimal(s), { error: 'ip must be an IPv4 address' }),
        /** the slice's targetRef, when it names a pod */
        pod: z.object({ namespace: k.dnsLabel('namespace'), name: k.dnsSubdomain('name') }).optional(),
      },
      { error: 'endpoints entries must be objects' },
    );
    return z
      .object({
        ...f.placeholders,
        namespace: k.dnsLabel('namespace'),
        /** the Service's name (the slice's kubernetes.io/service-name label) */
        service: k.dnsLabel('service'),
        /** the EndpointSlice's name */
        slice: k.dnsSubdomain('slice'),
        ports: f.list('ports', port).default([]),
        /** its ready endpoints */
        endpoints: f.list('endpoints', endpoint).default([]),
      })
      .superRefine((s, ctx) => {
        const seen = new Set<string>();
        s.ports.forEach((p, i) => {
          const key = `${p.protocol}/${p.name}`;
          if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `port ${key} is listed twice`, path: ['ports', i, 'name'] });
          seen.add(key);
        });
        const ips = new Set<string>();
        s.endpoints.forEach((e, i) => {
          if (ips.has(e.ip)) ctx.addIssue({ code: 'custom', message: `endpoint ${e.ip} is listed twice`, path: ['endpoints', i, 'ip'] });
          ips.add(e.ip);
        });
      });
  },
  references: [],
  netctl: {
    nameField: 'slice',
    linkSets: false,
    links: false,
    columns: [
      { header: 'Namespace', underline: '---------', field: 'namespace' },
      { header: 'Service', underline: '-------', field: 'service' },
      { header: 'Slice', underline: '-----', field: 'slice' },
      { header: 'Endpoints', underline: '---------', field: 'endpoints', format: 'count' },
    ],
  },
});
