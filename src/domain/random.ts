import { randomFillSync } from 'node:crypto';

// Random bytes from the kernel's CSPRNG, drawn 4 KiB at a time. A call to the kernel per token costs
// microseconds, and ulid asks its source once per character (about 100 µs per id in a new millisecond);
// reading from the pool costs a fraction of that.
const pool = Buffer.alloc(4096);
let position = pool.length;

function take(n: number): number {
  if (position + n > pool.length) {
    randomFillSync(pool);
    position = 0;
  }
  const at = position;
  position += n;
  return at;
}

/** `n` (at most 4096) cryptographically random bytes, in a buffer of their own. */
export function randomBytesPooled(n: number): Buffer {
  const at = take(n);
  return Buffer.from(pool.subarray(at, at + n));
}

/** A random number in [0, 1) with 8 bits of randomness: what ulid's random source must return. */
export function randomFraction(): number {
  return pool[take(1)]! / 256;
}
