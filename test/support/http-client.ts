import { Agent, fetch as undiciFetch } from 'undici';

/**
 * A fetch with its own connection pool, for the SDK workers a test runs. Closing it closes its sockets, so
 * the server the test stops is not left waiting on a keep-alive connection that a stopped worker opened for a
 * claim it then abandoned (Node's HTTP server waits for such a connection when it closes).
 */
export function pooledFetch(): { fetch: typeof fetch; close: () => Promise<void> } {
  const agent = new Agent();
  return {
    fetch: ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
      undiciFetch(input as never, { ...(init as object), dispatcher: agent } as never)) as unknown as typeof fetch,
    close: () => agent.destroy(),
  };
}
