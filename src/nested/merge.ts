/**
 * Runs up to `limit` async sources at once and yields their items as they arrive: a step's child calls with
 * at most `maxParallelism` in flight. The first error ends the merge; the sources still running are closed
 * (their requests are aborted by the caller's signal, so nothing here waits for them).
 */
export async function* mergeLimited<T>(
  sources: readonly (() => AsyncIterable<T>)[],
  limit: number,
): AsyncGenerator<T> {
  type Pull = Promise<{ id: number; result: IteratorResult<T> }>;
  const active = new Map<number, { iterator: AsyncIterator<T>; pending: Pull }>();
  const pull = (id: number, iterator: AsyncIterator<T>): Pull =>
    iterator.next().then((result) => ({ id, result }));
  let started = 0;
  const fill = (): void => {
    for (; active.size < Math.max(1, limit) && started < sources.length; started++) {
      const iterator = (sources[started] as () => AsyncIterable<T>)()[Symbol.asyncIterator]();
      active.set(started, { iterator, pending: pull(started, iterator) });
    }
  };
  try {
    fill();
    while (active.size > 0) {
      const { id, result } = await Promise.race([...active.values()].map((entry) => entry.pending));
      const entry = active.get(id) as { iterator: AsyncIterator<T>; pending: Pull };
      if (result.done) {
        active.delete(id);
        fill();
        continue;
      }
      entry.pending = pull(id, entry.iterator);
      yield result.value;
    }
  } finally {
    for (const { iterator, pending } of active.values()) {
      pending.catch(() => undefined);
      iterator.return?.().catch(() => undefined);
    }
  }
}
