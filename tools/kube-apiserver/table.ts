/**
 * Server-side printing: the meta.k8s.io/v1 Table `kubectl get` asks for (`Accept:
 * application/json;as=Table;g=meta.k8s.io;v=v1`), with the columns kube-apiserver prints for each
 * served resource, ages as the server words them ("5m10s"), and each row's object as
 * PartialObjectMetadata (or the whole object, or none: includeObject).
 */
import { isObject, type Json, type JsonObject } from './json';
import type { ResourceDef } from './resources';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  priority?: number;
  cell: (o: JsonObject, now: number) => Json;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const get = (o: Json | undefined, ...path: string[]): Json | undefined => {
  let cur = o;
  for (const p of path) cur = isObject(cur) ? cur[p] : undefined;
  return cur;
};
const str = (v: Json | undefined, dflt = '<none>'): string => (v === undefined || v === null || v === '' ? dflt : String(v));
const list = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const count = (v: Json | undefined): number => (isObject(v) ? Object.keys(v).length : 0);

/** apimachinery's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) return `${Math.floor(h / 24 / 365)}y${Math.floor(h / 24) % 365}d`;
  return `${Math.floor(h / 24 / 365)}y`;
}

const name: Column = { name: 'Name', type: 'string', cell: (o) => str(get(o, 'metadata', 'name'), '') };
const age: Column = {
  name: 'Age',
  type: 'date',
  cell: (o, now) => {
    const t = get(o, 'metadata', 'creationTimestamp');
    return typeof t === 'string' ? humanDuration(now - Date.parse(t)) : '<unknown>';
  },
};
const createdAt: Column = { name: 'Created At', type: 'date', cell: (o) => str(get(o, 'metadata', 'creationTimestamp'), '') };
const selectorText = (sel: Json | undefined): string => {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(isObject(get(sel, 'matchLabels')) ? (get(sel, 'matchLabels') as JsonObject) : {}))
    parts.push(`${k}=${String(v)}`);
  for (const e of list(get(sel, 'matchExpressions')))
    parts.push(`${str(get(e, 'key'), '')} ${str(get(e, 'operator'), '')} (${list(get(e, 'values')).join(',')})`);
  return parts.length > 0 ? parts.join(',') : '<none>';
};
const mapText = (m: Json | undefined): string =>
  isObject(m) && Object.keys(m).length > 0
    ? Object.entries(m)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',')
    : '<none>';

function podStatus(o: JsonObject): string {
  const reason = get(o, 'status', 'reason');
  if (typeof reason === 'string' && reason !== '') return reason;
  for (const c of list(get(o, 'status', 'containerStatuses'))) {
    const waiting = get(c, 'state', 'waiting', 'reason');
    if (typeof waiting === 'string' && waiting !== '') return waiting;
  }
  return str(get(o, 'status', 'phase'), 'Unknown');
}

const roleRef: Column = {
  name: 'Role',
  type: 'string',
  cell: (o) => `${str(get(o, 'roleRef', 'kind'), '')}/${str(get(o, 'roleRef', 'name'), '')}`,
};

const COLUMNS: Record<string, Column[]> = {
  namespaces: [name, { name: 'Status', type: 'string', cell: (o) => str(get(o, 'status', 'phase'), '') }, age],
  pods: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => {
        const statuses = list(get(o, 'status', 'containerStatuses'));
        return `${statuses.filter((c) => get(c, 'ready') === true).length}/${list(get(o, 'spec', 'containers')).length}`;
      },
    },
    { name: 'Status', type: 'string', cell: podStatus },
    {
      name: 'Restarts',
      type: 'string',
      cell: (o) => String(list(get(o, 'status', 'containerStatuses')).reduce<number>((n, c) => n + Number(get(c, 'restartCount') ?? 0), 0)),
    },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => str(get(o, 'status', 'podIP')) },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => str(get(o, 'spec', 'nodeName')) },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: (o) => str(get(o, 'status', 'nominatedNodeName')) },
    {
      name: 'Readiness Gates',
      type: 'string',
      priority: 1,
      cell: (o) => (list(get(o, 'spec', 'readinessGates')).length > 0 ? String(list(get(o, 'spec', 'readinessGates')).length) : '<none>'),
    },
  ],
  services: [
    name,
    { name: 'Type', type: 'string', cell: (o) => str(get(o, 'spec', 'type'), '') },
    { name: 'Cluster-IP', type: 'string', cell: (o) => str(get(o, 'spec', 'clusterIP')) },
    { name: 'External-IP', type: 'string', cell: (o) => list(get(o, 'spec', 'externalIPs')).join(',') || '<none>' },
    {
      name: 'Port(s)',
      type: 'string',
      cell: (o) =>
        list(get(o, 'spec', 'ports'))
          .map(
            (p) =>
              `${str(get(p, 'port'), '')}${get(p, 'nodePort') ? `:${String(get(p, 'nodePort'))}` : ''}/${str(get(p, 'protocol'), 'TCP')}`,
          )
          .join(',') || '<none>',
    },
    age,
    { name: 'Selector', type: 'string', priority: 1, cell: (o) => mapText(get(o, 'spec', 'selector')) },
  ],
  events: [
    {
      name: 'Last Seen',
      type: 'string',
      cell: (o) => str(get(o, 'lastTimestamp') ?? get(o, 'eventTime') ?? get(o, 'metadata', 'creationTimestamp'), ''),
    },
    { name: 'Type', type: 'string', cell: (o) => str(get(o, 'type'), '') },
    { name: 'Reason', type: 'string', cell: (o) => str(get(o, 'reason'), '') },
    {
      name: 'Object',
      type: 'string',
      cell: (o) => `${str(get(o, 'involvedObject', 'kind'), '').toLowerCase()}/${str(get(o, 'involvedObject', 'name'), '')}`,
    },
    { name: 'Message', type: 'string', cell: (o) => str(get(o, 'message'), '') },
  ],
  nodes: [
    name,
    {
      name: 'Status',
      type: 'string',
      cell: (o) =>
        list(get(o, 'status', 'conditions')).some((c) => get(c, 'type') === 'Ready' && get(c, 'status') === 'True') ? 'Ready' : 'NotReady',
    },
    { name: 'Roles', type: 'string', cell: () => '<none>' },
    age,
    { name: 'Version', type: 'string', cell: (o) => str(get(o, 'status', 'nodeInfo', 'kubeletVersion'), '') },
  ],
  configmaps: [name, { name: 'Data', type: 'integer', cell: (o) => count(get(o, 'data')) + count(get(o, 'binaryData')) }, age],
  serviceaccounts: [name, { name: 'Secrets', type: 'integer', cell: (o) => list(get(o, 'secrets')).length }, age],
  secrets: [
    name,
    { name: 'Type', type: 'string', cell: (o) => str(get(o, 'type'), '') },
    { name: 'Data', type: 'integer', cell: (o) => count(get(o, 'data')) },
    age,
  ],
  endpointslices: [
    name,
    { name: 'AddressType', type: 'string', cell: (o) => str(get(o, 'addressType'), '') },
    {
      name: 'Ports',
      type: 'string',
      cell: (o) =>
        list(get(o, 'ports'))
          .map((p) => str(get(p, 'port'), ''))
          .join(',') || '<unset>',
    },
    {
      name: 'Endpoints',
      type: 'string',
      cell: (o) =>
        list(get(o, 'endpoints'))
          .flatMap((e) => list(get(e, 'addresses')).map(String))
          .join(',') || '<unset>',
    },
    age,
  ],
  networkpolicies: [name, { name: 'Pod-Selector', type: 'string', cell: (o) => selectorText(get(o, 'spec', 'podSelector')) }, age],
  daemonsets: [
    name,
    ...(['desiredNumberScheduled', 'currentNumberScheduled', 'numberReady', 'updatedNumberScheduled', 'numberAvailable'] as const).map(
      (f, i): Column => ({
        name: ['Desired', 'Current', 'Ready', 'Up-to-date', 'Available'][i] as string,
        type: 'integer',
        cell: (o) => Number(get(o, 'status', f) ?? 0),
      }),
    ),
    { name: 'Node Selector', type: 'string', cell: (o) => mapText(get(o, 'spec', 'template', 'spec', 'nodeSelector')) },
    age,
  ],
  deployments: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${Number(get(o, 'status', 'readyReplicas') ?? 0)}/${Number(get(o, 'spec', 'replicas') ?? 0)}`,
    },
    { name: 'Up-to-date', type: 'integer', cell: (o) => Number(get(o, 'status', 'updatedReplicas') ?? 0) },
    { name: 'Available', type: 'integer', cell: (o) => Number(get(o, 'status', 'availableReplicas') ?? 0) },
    age,
  ],
  clusterroles: [name, createdAt],
  roles: [name, createdAt],
  clusterrolebindings: [name, roleRef, age],
  rolebindings: [name, roleRef, age],
};

function columnsOf(r: ResourceDef): Column[] {
  return COLUMNS[r.plural] ?? [name, age];
}

function rowObject(o: JsonObject, include: IncludeObject): Json | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: isObject(o.metadata) ? o.metadata : {} };
}

/** A Table of `objects` (a list's items, or one object). */
export function toTable(
  r: ResourceDef,
  objects: readonly JsonObject[],
  listMeta: JsonObject,
  include: IncludeObject,
  now = Date.now(),
): JsonObject {
  const cols = columnsOf(r);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.name === 'Name' ? 'name' : '',
      description: c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => {
      const obj = rowObject(o, include);
      return { cells: cols.map((c) => c.cell(o, now)), ...(obj !== undefined ? { object: obj } : {}) };
    }),
  };
}
