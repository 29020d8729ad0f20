/**
 * Batched ECS reads: concurrent looks at many rollouts share calls. DescribeServices takes
 * up to 10 services of one cluster, DescribeServiceDeployments up to 20 service deployments;
 * a look asks for its one item and waits at most `windowMs` for others to join its call
 * (a look that cannot wait sends its batch at once, with the looks already in it).
 * One call, one token of the ECS budget, however many rollouts it answers.
 */

export interface BatchStats {
  calls: number;
  items: number;
}

interface Pending<T> {
  key: string;
  resolve: (v: T | undefined) => void;
  reject: (err: unknown) => void;
}

interface Batch<T> {
  pending: Pending<T>[];
  timer: NodeJS.Timeout;
  /** Set when a request that cannot wait asked for the batch to go out on the next turn. */
  soon?: NodeJS.Immediate;
}

/**
 * Collects `get(group, key)` requests per group; a group's batch goes out when it holds `max`
 * keys or `windowMs` after its first request, or on the event loop's next turn once a
 * request asks for `now` (requests made in the same turn still join it). `fetch` answers a
 * batch with the items it found (by key); a key it did not find resolves to undefined, and
 * its error rejects the whole batch.
 */
export class Batcher<T> {
  private readonly open = new Map<string, Batch<T>>();
  readonly stats: BatchStats = { calls: 0, items: 0 };

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly fetch: (group: string, keys: string[]) => Promise<Map<string, T>>,
  ) {}

  get(group: string, key: string, now = false): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      let batch = this.open.get(group);
      if (!batch) {
        const fresh: Batch<T> = { pending: [], timer: setTimeout(() => this.flush(group, fresh), this.windowMs) };
        batch = fresh;
        this.open.set(group, batch);
      }
      batch.pending.push({ key, resolve, reject });
      if (new Set(batch.pending.map((p) => p.key)).size >= this.max) this.flush(group, batch);
      else if (now && !batch.soon) {
        const soon = batch;
        soon.soon = setImmediate(() => this.flush(group, soon));
      }
    });
  }

  /** Keys per call so far (1 when nothing was batched yet). */
  get meanBatchSize(): number {
    return this.stats.calls > 0 ? this.stats.items / this.stats.calls : 1;
  }

  private flush(group: string, batch: Batch<T>): void {
    if (this.open.get(group) !== batch) return; // already sent
    this.open.delete(group);
    clearTimeout(batch.timer);
    if (batch.soon) clearImmediate(batch.soon);
    const keys = [...new Set(batch.pending.map((p) => p.key))];
    this.stats.calls++;
    this.stats.items += keys.length;
    this.fetch(group, keys).then(
      (found) => {
        for (const p of batch.pending) p.resolve(found.get(p.key));
      },
      (err: unknown) => {
        for (const p of batch.pending) p.reject(err);
      },
    );
  }
}
