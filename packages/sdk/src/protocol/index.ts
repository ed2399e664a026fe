/** The wire contract shared by server, SDK and CLI. Imports nothing else of ours. */
export * from './ids.js';
export * from './errors.js';
export * from './common.js';
export * from './jobs.js';
export * from './interactive.js';
export * from './worker.js';
export * from './agents.js';
export * from './keys.js';
export * from './schedules.js';
export * from './batches.js';
export * from './reruns.js';
