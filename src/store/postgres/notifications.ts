import pg from 'pg';
import type { Channel } from '../store.js';

/** The PostgreSQL channel of each of our wake-up channels (NOTIFY channels are per database). */
export const PG_CHANNELS: Readonly<Record<Channel, string>> = Object.freeze({
  agent: 'agentjobs_agent',
  tree: 'agentjobs_tree',
  outbox: 'agentjobs_outbox',
  timer: 'agentjobs_timer',
  revoked: 'agentjobs_revoked',
  secrets: 'agentjobs_secrets',
});

const BY_PG_CHANNEL = new Map(Object.entries(PG_CHANNELS).map(([ours, theirs]) => [theirs, ours as Channel]));

// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. Keys are short ids, so a batch rarely needs more
// than one payload; when it does, the keys are split over several, each well under the limit.
const MAX_PAYLOAD_BYTES = 7900;

/**
 * The payloads that carry `keys` on one channel: the sender's instance id on the first line (so that a
 * process can ignore its own notifications, which it has already delivered locally), then one key per line.
 * Keys are ids and token hashes: they never contain a newline.
 */
export function encodePayloads(origin: string, keys: Iterable<string>): string[] {
  const payloads: string[] = [];
  let current = origin;
  let size = Buffer.byteLength(origin);
  let count = 0;
  for (const key of keys) {
    const bytes = Buffer.byteLength(key) + 1;
    if (count > 0 && size + bytes > MAX_PAYLOAD_BYTES) {
      payloads.push(current);
      current = origin;
      size = Buffer.byteLength(origin);
      count = 0;
    }
    current += `\n${key}`;
    size += bytes;
    count++;
  }
  if (count > 0) payloads.push(current);
  return payloads;
}

/** The sender and keys of a payload made by {@link encodePayloads}. */
export function decodePayload(payload: string): { origin: string; keys: string[] } {
  const lines = payload.split('\n');
  return { origin: lines[0], keys: lines.slice(1) };
}

/** Options of the LISTEN connection. */
export interface ListenerOptions {
  /** Connection settings (the pool's, minus the pool). */
  config: pg.ClientConfig;
  /** This process's instance id: notifications it sent itself are skipped. */
  origin: string;
  /** Delivers the keys of another process's notification. */
  deliver: (channel: Channel, keys: string[]) => void;
  /**
   * Called each time LISTEN is (re-)established. Notifications sent while no connection listened are lost, so
   * the store looks for what may have been missed.
   */
  connected: () => void;
  onError: (error: unknown) => void;
}

/** How often the LISTEN connection is checked, and how long a check may take before the connection is dropped. */
const PING_EVERY_MS = 15_000;
const PING_TIMEOUT_MS = 10_000;

/**
 * One dedicated connection that LISTENs on every channel and hands other processes' notifications to the
 * local listeners. It reconnects by itself, with backoff, when the connection breaks or stops answering
 * (a silently dropped TCP connection would otherwise deliver nothing, forever, without an error).
 */
export class NotificationListener {
  private stopped = false;
  private breakNow: (() => void) | null = null;
  private readonly done: Promise<void>;

  constructor(private readonly options: ListenerOptions) {
    this.done = this.run();
  }

  /** Stops listening and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.breakNow?.();
    await this.done;
  }

  private async run(): Promise<void> {
    let delay = 100;
    while (!this.stopped) {
      // A connection attempt to an unreachable host would otherwise wait for the operating system's TCP timeout.
      const client = new pg.Client({ connectionTimeoutMillis: 10_000, ...this.options.config });
      let markBroken!: () => void;
      const broken = new Promise<void>((resolve) => (markBroken = resolve));
      this.breakNow = markBroken;
      // pg throws an 'error' event that nobody listens to: always listen, and treat it as a broken connection.
      client.on('error', (error) => {
        if (!this.stopped) this.options.onError(error);
        markBroken();
      });
      client.on('end', markBroken);
      client.on('notification', (message) => this.receive(message));
      try {
        // Either step may hang on a dead network; a break (or stop()) ends the wait.
        const orBroken = <T>(work: Promise<T>): Promise<T> => {
          work.catch(() => {});
          return Promise.race([work, broken.then(() => Promise.reject(new Error('the LISTEN connection closed')))]);
        };
        await orBroken(client.connect());
        await orBroken(client.query(Object.values(PG_CHANNELS).map((channel) => `LISTEN ${channel}`).join('; ')));
        delay = 100;
        this.options.connected();
        await this.watch(client, broken);
      } catch (error) {
        if (!this.stopped) this.options.onError(error);
      } finally {
        client.removeAllListeners('notification');
        // end() on a connection that already broke may never settle: do not wait for it.
        client.end().catch(() => {});
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.breakNow = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delay = Math.min(delay * 2, 5000);
    }
  }

  /** Resolves when the connection breaks, is stopped, or fails a ping. */
  private async watch(client: pg.Client, broken: Promise<void>): Promise<void> {
    while (!this.stopped) {
      const tick = await Promise.race([broken.then(() => 'broken' as const), sleep(PING_EVERY_MS).then(() => 'ping' as const)]);
      if (tick === 'broken' || this.stopped) return;
      const answered = await Promise.race([
        client.query('SELECT 1').then(
          () => true,
          () => false,
        ),
        sleep(PING_TIMEOUT_MS).then(() => false),
        broken.then(() => false),
      ]);
      if (!answered) {
        if (!this.stopped) this.options.onError(new Error('the LISTEN connection stopped answering; reconnecting'));
        return;
      }
    }
  }

  private receive(message: pg.Notification): void {
    const channel = BY_PG_CHANNEL.get(message.channel);
    if (!channel || message.payload == null) return;
    const { origin, keys } = decodePayload(message.payload);
    if (origin === this.options.origin) return;
    this.options.deliver(channel, keys);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
