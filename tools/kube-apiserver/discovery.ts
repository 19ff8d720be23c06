/**
 * Discovery as kubectl 1.20 reads it (the legacy, unaggregated form): /version, /api (APIVersions),
 * /apis (APIGroupList), /apis/GROUP (APIGroup) and /api/v1, /apis/GROUP/VERSION (APIResourceList
 * with verbs, short names, categories and the status subresources).
 */
import type { JsonObject } from './json';
import { apiVersionOf, groupVersions, RESOURCES } from './resources';

/** The Kubernetes version the stand-in speaks for (its API is that of current releases: EndpointSlice v1, NetworkPolicy endPort). */
export const SERVED_VERSION = { major: '1', minor: '25', gitVersion: 'v1.25.0-netloom-standin' };

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function versionInfo(): JsonObject {
  return {
    ...SERVED_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'n/a (netloom kube-apiserver stand-in, Node.js)',
    compiler: 'n/a',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersions(serverAddress: string): JsonObject {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string): JsonObject {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] ?? {} };
}

export function apiGroupList(): JsonObject {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => g !== '');
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((g) => {
      const { kind: _k, apiVersion: _a, ...rest } = apiGroup(g);
      return rest;
    }),
  };
}

export function apiGroupOf(group: string): JsonObject | undefined {
  return groupVersions().some((gv) => gv.group === group) ? apiGroup(group) : undefined;
}

export function apiResourceList(group: string, version: string): JsonObject | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  const resources: JsonObject[] = [];
  for (const r of rs) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    });
    if (r.statusSubresource)
      resources.push({
        name: `${r.plural}/status`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get', 'patch', 'update'],
      });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
