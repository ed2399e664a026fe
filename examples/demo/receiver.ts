/**
 * A webhook receiver as a user would write one: read the raw body, verify the Standard Webhooks signature with
 * `verifyWebhook` (from `@agentjobs/sdk/webhooks`), answer 2xx fast, deduplicate on `webhook-id`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, WebhookVerificationError, type WebhookPayload } from '@agentjobs/sdk/webhooks';

/** One verified delivery. */
export interface Received {
  id: string;
  payload: WebhookPayload;
  /** True when this `webhook-id` was seen before (a retry of a message we already have). */
  duplicate: boolean;
}

/** A running receiver. */
export interface Receiver {
  url: string;
  /** `webhook-id`s verified so far. */
  readonly seen: Set<string>;
  /** Requests refused because their signature did not verify. */
  readonly refused: number;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 (a free port) that verifies every request with `secret`. */
export async function startReceiver(secret: string, onDelivery: (received: Received) => void, onRefused: (why: string) => void): Promise<Receiver> {
  const seen = new Set<string>();
  let refused = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      // The signature covers the exact bytes: verify before parsing, and never a re-serialised body.
      const payload = verifyWebhook(secret, req.headers, Buffer.concat(chunks));
      const id = String(req.headers['webhook-id']);
      const duplicate = seen.has(id);
      seen.add(id);
      res.writeHead(204).end();
      onDelivery({ id, payload, duplicate });
    } catch (error) {
      refused += 1;
      res.writeHead(error instanceof WebhookVerificationError ? 400 : 500).end();
      onRefused(error instanceof Error ? error.message : String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/agentjobs`,
    seen,
    get refused() {
      return refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
