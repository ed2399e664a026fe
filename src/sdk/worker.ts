/** `agentjobs/worker`: `@agentjobs/sdk/worker`, re-exported so that code written against the server package keeps working. */
export * from '@agentjobs/sdk/worker';
