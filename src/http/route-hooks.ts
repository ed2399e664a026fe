import type { RouteOptions } from 'fastify';

type RouteHookName = 'onRequest' | 'preValidation' | 'onSend' | 'onResponse';

/**
 * Adds `hook` to one route's own hooks of that name, after those it has: for use in an `onRoute` hook, so that
 * only the routes that need a hook pay for it (an app-wide hook runs on every request).
 */
export function addRouteHook<N extends RouteHookName>(route: RouteOptions, name: N, hook: Extract<RouteOptions[N], unknown[]>[number]): void {
  const current = route[name] as unknown;
  const hooks = current === undefined ? [] : Array.isArray(current) ? current : [current];
  route[name] = [...hooks, hook] as RouteOptions[N];
}
