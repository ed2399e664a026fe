/**
 * agentjobs as a library: start the server in your own process, or open its store. Clients and workers
 * import `agentjobs/client` and `agentjobs/worker`; webhook receivers import `agentjobs/webhooks`.
 */
export { startServer, openStore, type RunningServer } from './server.js';
export { resolveOptions, type ServerOptions, type ResolvedOptions } from './options.js';
export type { Store, Tx, Channel } from './store/store.js';
