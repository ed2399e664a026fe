import type { Channel } from './store.js';

/** In-process wake-ups: handlers per channel, called synchronously with the key. */
export class LocalBus {
  private readonly handlers = new Map<Channel, Set<(key: string) => void>>();

  listen(channel: Channel, handler: (key: string) => void): () => void {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    return () => set!.delete(handler);
  }

  emit(channel: Channel, key: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(key);
      } catch {
        // A failing listener must not stop the others, nor the commit path that called emit.
      }
    }
  }
}
