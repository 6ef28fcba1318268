/**
 * Watermark rows in a chosen state, written the way the runner writes them (register, lease, begin, commit or
 * fail), so the status endpoint reads real rows without polling anything.
 */
import type { FakeClock } from "../../src/engine/clock.ts";
import type { WatermarkStore } from "../../src/state/index.ts";

export interface SeededConnector {
  id: string;
  /**
   * Windows committed one after the other, oldest first: each ends `lagMinutes` before `at` (when it is
   * committed) and starts where the one before ended (the first one hour earlier).
   */
  commits?: SeededCommit[];
  /** Then commit one more window ending at this instant (5 minutes long unless a commit came before). */
  committedThrough?: string;
  /** Then fail the next window this many times with this error. */
  failures?: { times: number; error: Error; at: string };
  disabledReason?: string;
}

export interface SeededCommit {
  at: Date;
  accepted: number;
  lagMinutes: number;
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
  let end: Date | undefined;
  for (const commit of spec.commits ?? []) {
    clock.set(commit.at);
    const windowEnd = new Date(commit.at.getTime() - commit.lagMinutes * 60_000);
    const window = { start: end ?? new Date(windowEnd.getTime() - 60 * 60_000), end: windowEnd };
    const { accepted } = commit;
    await lease.commitWindow(window, {
      ...zero,
      fetched: accepted,
      extracted: accepted,
      sent: accepted,
      accepted,
    });
    end = windowEnd;
  }
  if (spec.committedThrough !== undefined) {
    const through = new Date(spec.committedThrough);
    clock.set(through);
    const window = { start: end ?? new Date(through.getTime() - windowMs), end: through };
    await lease.beginWindow(window);
    await lease.commitWindow(window, { ...zero, fetched: 3, extracted: 3, sent: 3, accepted: 3 });
    end = through;
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
