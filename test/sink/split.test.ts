/**
 * 413 handling against a stand-in whose call limit is lowered to 20 KB, so a rejected batch and a record
 * too large for any call are cheap to provoke. The sink's logic is the same as under the real 1 MiB limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_ID_COLUMN } from "../../src/sink/rows.ts";
import {
  connectorFor,
  DCR_ID,
  events,
  recordingLogger,
  type StandinFixture,
  sinkFor,
  startFixture,
  streamOf,
} from "./helpers.ts";

const LIMIT = 20_000;
let fixture: StandinFixture;
beforeAll(async () => {
  fixture = await startFixture({ maxRequestBytes: LIMIT });
});
afterAll(() => fixture?.close());

describe("413 from the service", () => {
  it("splits the rejected batch in halves until every part is accepted, each row stored once", async () => {
    const logger = recordingLogger();
    const sink = sinkFor(fixture.standin, fixture.deadLetter, logger);
    const connector = connectorFor(fixture.standin);
    const page = events(100, 500); // about 52 KB: one batch for the sink, too large for this service

    const result = await sink.send(connector, page);

    const calls = fixture.standin.calls().filter((call) => call.stream === streamOf(connector));
    expect(calls.filter((call) => call.status === 413).length).toBeGreaterThan(0);
    expect(calls.filter((call) => call.status === 204).every((call) => call.bodyBytes <= LIMIT)).toBe(true);
    expect(result).toMatchObject({ sent: 100, accepted: 100, deadLettered: 0, calls: calls.length });
    const stored = await fixture.standin.readRows(DCR_ID, streamOf(connector));
    expect(stored.map((row) => row.id)).toEqual(page.map((event) => event.id));
    expect(logger.lines.filter((line) => line.level === "warn").length).toBe(
      calls.filter((call) => call.status === 413).length,
    );
  });

  it("dead-letters a single record the service rejects on its own, and delivers its neighbours", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    const tooBig = { id: "too-big", text: "y".repeat(LIMIT) };

    const result = await sink.send(connector, [...events(10, 500), tooBig, ...events(10, 500)]);

    expect(result).toMatchObject({ sent: 21, accepted: 20, deadLettered: 1 });
    expect(result.deadLetters[0]?.reason).toMatch(
      /rejected on its own \(HTTP 413 ContentLengthLimitExceeded/,
    );
    const stored = await fixture.standin.readRows(DCR_ID, streamOf(connector));
    expect(stored).toHaveLength(20);
    expect(stored.map((row) => row[EVENT_ID_COLUMN])).not.toContain(result.deadLetters[0]?.eventId);
  });
});
