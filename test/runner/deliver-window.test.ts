/**
 * How a window's pages flow to the sink: the next page is sent while the service is still answering the one
 * before, never more than two at once, and the page after them is requested only once one is done (what bounds
 * memory whatever the window's size); the first failure stops the rest. An in-memory page source and a sink whose calls the test
 * settles by hand make every interleaving deterministic; run-all.test.ts covers the same loop on real parts.
 */
import { describe, expect, it } from "vitest";
import type { Connector } from "../../src/definition/schema.ts";
import { createFakeClock } from "../../src/engine/clock.ts";
import type { Engine, Page, PollOptions, Window } from "../../src/engine/types.ts";
import { deliverWindow } from "../../src/runner/deliver-window.ts";
import type { SendResult, Sink, SinkSendOptions } from "../../src/sink/logs-ingestion-sink.ts";
import { loadJira } from "./harness.ts";

const WINDOW: Window = {
  start: new Date("2026-01-01T00:00:00Z"),
  end: new Date("2026-01-01T00:05:00Z"),
};

interface PendingSend {
  page: number;
  signal: AbortSignal | undefined;
  accept(): void;
  reject(error: Error): void;
}

/** Pages of two events; records how many were taken and whether the source was closed early. */
function pageSource(pageCount: number) {
  const source = { taken: 0, returned: false, signals: [] as AbortSignal[] };
  const engine = {
    pollWindow(_connector: Connector, _window: Window, options?: PollOptions): AsyncIterable<Page> {
      if (options?.signal) source.signals.push(options.signal);
      return (async function* () {
        try {
          for (let number = 1; number <= pageCount; number++) {
            options?.signal?.throwIfAborted();
            source.taken = number;
            yield {
              number,
              events: [
                { page: number, n: 1 },
                { page: number, n: 2 },
              ],
              bytes: 100,
            };
          }
        } finally {
          source.returned = true;
        }
      })();
    },
  } as Pick<Engine, "pollWindow"> as Engine;
  return { source, engine };
}

function manualSink() {
  const pending: PendingSend[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const sink: Sink = {
    send(_connector, events, options: SinkSendOptions = {}) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<SendResult>((resolve, reject) => {
        const settle = () => {
          inFlight -= 1;
        };
        pending.push({
          page: (events[0] as { page: number }).page,
          signal: options.signal,
          accept: () => {
            settle();
            resolve({
              sent: events.length,
              accepted: events.length,
              deadLettered: 0,
              deadLetters: [],
              calls: 1,
            });
          },
          reject: (error) => {
            settle();
            reject(error);
          },
        });
      });
    },
  };
  return { sink, pending, maxInFlight: () => maxInFlight };
}

/** Lets every promise chain that can advance do so: the page source and the sink here never wait on I/O. */
async function settled(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}

async function connector(): Promise<Connector> {
  return loadJira("https://127.0.0.1:1");
}

describe("deliverWindow", () => {
  it("sends the next page while the previous upload is unanswered, two at a time, with one page downloaded ahead", async () => {
    const { source, engine } = pageSource(5);
    const { sink, pending, maxInFlight } = manualSink();
    const delivery = deliverWindow({ engine, sink, clock: createFakeClock() }, await connector(), WINDOW, {});

    await settled();
    expect(pending.map((send) => send.page)).toEqual([1, 2]);
    // Page 3 downloads while both uploads wait, and is not sent yet; page 4 is not requested: one page ahead at most.
    expect(source.taken).toBe(3);

    pending[1]?.accept();
    await settled();
    expect(pending.map((send) => send.page)).toEqual([1, 2, 3]);
    expect(source.taken).toBe(4);

    for (let index = 0; index < 5; index++) {
      pending[index]?.accept();
      await settled();
    }
    const result = await delivery;
    expect(result.error).toBeUndefined();
    expect(result.counts).toMatchObject({ pages: 5, fetched: 10, sent: 10, accepted: 10 });
    expect(maxInFlight()).toBe(2);
  });

  it("fails the window with the first upload's error, stops the other upload and the paging, and keeps the cursor", async () => {
    const { source, engine } = pageSource(5);
    const { sink, pending } = manualSink();
    const delivery = deliverWindow({ engine, sink, clock: createFakeClock() }, await connector(), WINDOW, {
      cursor: "committed-cursor",
    });
    await settled();
    const [first, second] = pending;
    first?.reject(new Error("HTTP 500: the service failed"));
    await settled();

    expect(second?.signal?.aborted).toBe(true);
    expect(source.signals[0]?.aborted).toBe(true);
    // The window waits for the upload still in flight before it reports: its rows may have been stored.
    second?.accept();
    const result = await delivery;
    expect(result.error).toEqual(new Error("HTTP 500: the service failed"));
    expect(result.cursor).toBe("committed-cursor");
    expect(result.counts).toMatchObject({ pages: 2, fetched: 4, accepted: 2 });
    expect(source.returned).toBe(true);
    expect(pending).toHaveLength(2);
  });

  it("fails with the page's error when a page fails while uploads are in flight, and waits for them", async () => {
    const { sink, pending } = manualSink();
    let failPage: (error: Error) => void = () => {};
    const engine = {
      pollWindow: (_c: Connector, _w: Window, options?: PollOptions): AsyncIterable<Page> =>
        (async function* () {
          yield { number: 1, events: [{ page: 1 }], bytes: 10 };
          await new Promise<void>((_resolve, reject) => {
            failPage = reject;
            options?.signal?.addEventListener("abort", () => reject(options.signal?.reason));
          });
        })(),
    } as Pick<Engine, "pollWindow"> as Engine;
    let finished = false;
    const delivery = deliverWindow(
      { engine, sink, clock: createFakeClock() },
      await connector(),
      WINDOW,
      {},
    ).then((result) => {
      finished = true;
      return result;
    });
    await settled();
    failPage(new Error("HttpStatusError: 503 from upstream"));
    await settled();
    expect(pending[0]?.signal?.aborted).toBe(true);
    expect(finished).toBe(false);

    pending[0]?.reject(new Error("aborted"));
    const result = await delivery;
    expect(result.error).toEqual(new Error("HttpStatusError: 503 from upstream"));
    expect(result.counts).toMatchObject({ pages: 1, accepted: 0 });
  });
});
