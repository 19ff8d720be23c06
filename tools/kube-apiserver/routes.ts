/**
 * Request paths of the Kubernetes API: discovery, OpenAPI and health paths, and resource paths
 * (`/api/v1/namespaces/NS/pods/NAME/status`, `/apis/GROUP/VERSION/PLURAL`, the legacy
 * `/api/v1/watch/...` form), parsed into what they name.
 */
import { findResource, type ResourceDef } from './resources';

export type Route =
  | { kind: 'health' }
  | { kind: 'version' }
  | { kind: 'metrics' }
  | { kind: 'openapi' }
  | { kind: 'api' }
  | { kind: 'apis' }
  | { kind: 'group'; group: string }
  | { kind: 'groupVersion'; group: string; version: string }
  | {
      kind: 'resource';
      resource: ResourceDef;
      namespace: string | undefined;
      name: string | undefined;
      subresource: string | undefined;
      /** the legacy /watch/ path form */
      watchPath: boolean;
    }
  /** a resource path naming no served resource */
  | { kind: 'unknown' };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (['/healthz', '/livez', '/readyz'].includes(path) || /^\/(healthz|livez|readyz)\//.test(path)) return { kind: 'health' };
  if (path === '/version') return { kind: 'version' };
  if (path === '/metrics') return { kind: 'metrics' };
  if (path === '/openapi/v2') return { kind: 'openapi' };
  if (path === '/api') return { kind: 'api' };
  if (path === '/apis') return { kind: 'apis' };
  let segs = path.split('/').slice(1).map(decodeURIComponent);
  let group: string;
  let version: string;
  if (segs[0] === 'api') {
    group = '';
    version = segs[1] ?? '';
    segs = segs.slice(2);
    if (segs.length === 0) return version ? { kind: 'groupVersion', group, version } : { kind: 'unknown' };
  } else if (segs[0] === 'apis') {
    group = segs[1] ?? '';
    if (segs.length === 2) return { kind: 'group', group };
    version = segs[2] ?? '';
    segs = segs.slice(3);
    if (segs.length === 0) return { kind: 'groupVersion', group, version };
  } else return { kind: 'unknown' };
  let watchPath = false;
  if (segs[0] === 'watch') {
    watchPath = true;
    segs = segs.slice(1);
  }
  let namespace: string | undefined;
  // namespaces/NS/PLURAL...: a namespaced resource; namespaces[/NAME[/status]]: the namespaces themselves
  if (segs[0] === 'namespaces' && segs.length >= 3 && segs[2] !== 'status' && segs[2] !== 'finalize') {
    namespace = segs[1];
    segs = segs.slice(2);
  }
  const [plural, name, subresource, ...rest] = segs;
  if (!plural || rest.length > 0) return { kind: 'unknown' };
  const resource = findResource(group, version, plural);
  if (!resource || (namespace !== undefined && !resource.namespaced)) return { kind: 'unknown' };
  return { kind: 'resource', resource, namespace, name, subresource, watchPath };
}
