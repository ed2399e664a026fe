import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One webhook as a receiver saw it. */
export interface Received {
  headers: Record<string, string>;
  body: string;
  json: any;
  at: number;
}

/** How the receiver answers: a status, or `hang` (never answer). */
export type Behaviour = number | 'hang';

/**
 * A local webhook receiver: records every request, answers as `behave` says, can stop accepting connections
 * (and start again on the same port) to simulate an endpoint that is down, and counts TCP connections.
 */
export class Receiver {
  readonly received: Received[] = [];
  connections = 0;
  behave: (req: IncomingMessage, count: number) => Behaviour = () => 200;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening and drops open connections: deliveries now get "connection refused". */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages received, by `webhook-id`. */
  byId(): Map<string, Received[]> {
    const map = new Map<string, Received[]>();
    for (const r of this.received) map.set(r.headers['webhook-id'], [...(map.get(r.headers['webhook-id']) ?? []), r]);
    return map;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const behaviour = this.behave(req, this.received.length);
      this.received.push({ headers: req.headers as Record<string, string>, body, json: safeJson(body), at: Date.now() });
      if (behaviour === 'hang') return;
      res.statusCode = behaviour;
      res.end('');
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
