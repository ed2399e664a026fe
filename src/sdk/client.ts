/** `agentjobs/client`: `@agentjobs/sdk/client`, re-exported so that code written against the server package keeps working. */
export * from '@agentjobs/sdk/client';
