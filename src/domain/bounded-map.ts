/**
 * A Map that holds at most `capacity` entries: adding a new key to a full map first drops the oldest entry
 * (insertion order). For the server's in-process memories — compiled schemas, URL verdicts, workers seen,
 * observers gone — where recomputing a forgotten entry is cheap and unbounded growth is not.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.capacity && !this.has(key)) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
