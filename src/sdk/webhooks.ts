/** `agentjobs/webhooks`: `@agentjobs/sdk/webhooks`, re-exported so that code written against the server package keeps working. */
export * from '@agentjobs/sdk/webhooks';
