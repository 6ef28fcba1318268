/**
 * Watermark rows in a chosen state, written the way the runner writes them (register, lease, begin, commit or
 * fail), so the status endpoint reads real rows without polling anything.
 */
import type { FakeClock } from "../../src/engine/clock.ts";
import type { WatermarkStore } from "../../src/state/index.ts";

export interface SeededConnector {
  id: string;
  /** Commit windows up to this instant (5-minute windows, the last one ending here). */
  committedThrough?: string;
  /** Then fail the next window this many times with this error. */
  failures?: { times: number; error: Error; at: string };
  disabledReason?: string;
}

const zero = { fetched: 0, extracted: 0, sent: 0, accepted: 0, pages: 1, durationMs: 120 };
const windowMs = 5 * 60_000;

export async function seedConnector(
  store: WatermarkStore,
  clock: FakeClock,
  spec: SeededConnector,
): Promise<void> {
  await store.register({
    id: spec.id,
    definitionHash: `test-hash-${spec.id}`,
    source: { file: `connectors/${spec.id}/connector.json` },
    properties: { isActive: true, request: { queryWindowInMin: 5, queryWindowDelayInMin: 0 } },
  });
  const lease = await store.acquireLease(spec.id, "test-seed", 60_000);
  if (!lease) throw new Error(`could not lease ${spec.id} to seed it`);
  let end = spec.committedThrough === undefined ? undefined : new Date(spec.committedThrough);
  if (end !== undefined) {
    clock.set(end);
    const window = { start: new Date(end.getTime() - windowMs), end };
    await lease.beginWindow(window);
    await lease.commitWindow(window, { ...zero, fetched: 3, extracted: 3, sent: 3, accepted: 3 });
  }
  if (spec.failures !== undefined) {
    clock.set(spec.failures.at);
    end ??= new Date(new Date(spec.failures.at).getTime() - windowMs);
    const window = { start: end, end: new Date(end.getTime() + windowMs) };
    for (let attempt = 0; attempt < spec.failures.times; attempt += 1) {
      await lease.beginWindow(window);
      await lease.failWindow(window, spec.failures.error, zero);
    }
  }
  await lease.release();
  if (spec.disabledReason !== undefined) await store.setDisabled(spec.id, spec.disabledReason);
}
