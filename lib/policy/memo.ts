/**
 * One compiled policy per (state object, host): states are immutable (a change brings a new one),
 * so a result stays valid for as long as its state lives, and goes with it (WeakMap).
 */
import type { EndpointPolicy } from './model';

export function memoPerStateAndHost<S extends object>(
  compile: (state: S, host: string) => EndpointPolicy[],
): (state: S, host: string) => EndpointPolicy[] {
  const compiled = new WeakMap<S, Map<string, EndpointPolicy[]>>();
  return (state, host) => {
    let byHost = compiled.get(state);
    if (!byHost) {
      byHost = new Map();
      compiled.set(state, byHost);
    }
    let out = byHost.get(host);
    if (!out) {
      out = compile(state, host);
      byHost.set(host, out);
    }
    return out;
  };
}
