/** The sink against the HTTPS stand-in, through the real LogsIngestionClient and its full pipeline. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gunzipSync } from "node:zlib";
import type { TokenCredential } from "@azure/identity";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { monitorIngestion } from "../../src/config/azure-sdk.ts";
import { STANDIN_TOKEN } from "../../src/local/ingestion-standin.ts";
import { SinkConfigurationError, SinkDeliveryError } from "../../src/sink/errors.ts";
import { EVENT_ID_COLUMN } from "../../src/sink/rows.ts";
import { standinClientOptions } from "../../src/sink/settings.ts";
import { notBeforePolicyName, uploadCall } from "../../src/sink/upload-call.ts";
import {
  connectorFor,
  DCR_ID,
  events,
  FAST_RETRIES,
  recordingLogger,
  type StandinFixture,
  sinkFor,
  startFixture,
  streamOf,
} from "./helpers.ts";

let fixture: StandinFixture;
beforeAll(async () => {
  fixture = await startFixture();
});
afterEach(() => fixture.standin.setFault(undefined));
afterAll(() => fixture?.close());

function callsTo(stream: string) {
  return fixture.standin.calls().filter((call) => call.stream === stream);
}

describe("rows", () => {
  it("land with the source fields, the add-on attributes and a dedup key", async () => {
    const logger = recordingLogger();
    const connector = connectorFor(fixture.standin, {
      addOnAttributes: { Vendor: "Contoso", Product: "Audit" },
    });
    const sink = sinkFor(fixture.standin, fixture.deadLetter, logger);
    const nested = { user: { name: "ada", roles: ["admin"] }, action: "login", Vendor: "from-source" };

    const result = await sink.send(connector, [nested, "plain text line", 42, null]);

    expect(result).toMatchObject({ sent: 4, accepted: 4, deadLettered: 0, calls: 1 });
    const rows = await fixture.standin.readRows(DCR_ID, streamOf(connector));
    const addOns = { Vendor: "Contoso", Product: "Audit" };
    expect(rows.map(({ CcpEventId: _, ...rest }) => rest)).toEqual([
      { user: { name: "ada", roles: ["admin"] }, action: "login", ...addOns },
      { RawData: "plain text line", ...addOns },
      { RawData: 42, ...addOns },
      { RawData: null, ...addOns },
    ]);
    // The key is over the source event (keys sorted at every depth), not the row with its add-ons.
    const canonical = '{"Vendor":"from-source","action":"login","user":{"name":"ada","roles":["admin"]}}';
    const expected = createHash("sha256").update(`contoso-audit${canonical}`).digest("hex").slice(0, 32);
    expect(rows[0]?.[EVENT_ID_COLUMN]).toBe(expected);
    for (const row of rows) expect(row[EVENT_ID_COLUMN]).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(rows.map((row) => row[EVENT_ID_COLUMN])).size).toBe(4);
  });

  it("give the same event the same key whatever its key order, and another connector another key", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    const other = connectorFor(fixture.standin, {}, "fabrikam-audit");

    await sink.send(connector, [{ a: 1, b: { c: 2, d: 3 } }]);
    await sink.send(connector, [{ b: { d: 3, c: 2 }, a: 1 }]);
    await sink.send(other, [{ a: 1, b: { c: 2, d: 3 } }]);

    const [first, second] = await fixture.standin.readRows(DCR_ID, streamOf(connector));
    const [third] = await fixture.standin.readRows(DCR_ID, streamOf(other));
    expect(first?.[EVENT_ID_COLUMN]).toBe(second?.[EVENT_ID_COLUMN]);
    expect(third?.[EVENT_ID_COLUMN]).not.toBe(first?.[EVENT_ID_COLUMN]);
  });

  it("a source field named CcpEventId cannot replace the dedup key", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    await sink.send(connector, [{ CcpEventId: "forged" }]);
    const [row] = await fixture.standin.readRows(DCR_ID, streamOf(connector));
    expect(row?.[EVENT_ID_COLUMN]).toMatch(/^[0-9a-f]{32}$/);
  });

  it("an empty page makes no call", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    expect(await sink.send(connector, [])).toMatchObject({ sent: 0, accepted: 0, calls: 0 });
    expect(callsTo(streamOf(connector))).toEqual([]);
  });
});

describe("batching", () => {
  it("splits a large page into gzipped calls of at most 1 MB each, every row stored once", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    const page = events(2500, 1000); // about 2.6 MB of JSON

    const result = await sink.send(connector, page);

    const calls = callsTo(streamOf(connector));
    expect(calls.length).toBe(3);
    expect(result).toMatchObject({ sent: 2500, accepted: 2500, calls: 3 });
    for (const call of calls) {
      expect(call.status).toBe(204);
      expect(call.bodyBytes).toBeLessThanOrEqual(1_000_000);
      expect(call.wireBytes).toBeLessThan(call.bodyBytes); // the pipeline gzipped it
    }
    const stored = await fixture.standin.readRows(DCR_ID, streamOf(connector));
    expect(stored.map((row) => row.id)).toEqual(page.map((event) => event.id));
  });

  it("compresses each body at zlib's fastest level, as one gzip member", async () => {
    const bodies: Uint8Array[] = [];
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger(), {
      clientOptions: standinClientOptions(fixture.standin.caCertPem, {
        retryOptions: FAST_RETRIES,
        additionalPolicies: [
          {
            position: "perRetry",
            policy: {
              name: "wire",
              sendRequest: (request, next) => {
                bodies.push(request.body as Uint8Array);
                return next(request);
              },
            },
          },
        ],
      }),
    });
    const connector = connectorFor(fixture.standin);
    const page = events(300, 500);

    await sink.send(connector, page);

    expect(bodies).toHaveLength(1);
    const [body] = bodies as [Uint8Array];
    // RFC 1952: magic 1f 8b, method 8 (deflate), and XFL 4, which zlib writes for its fastest level only.
    expect([body[0], body[1], body[2], body[8]]).toEqual([0x1f, 0x8b, 8, 4]);
    expect(JSON.parse(gunzipSync(body).toString("utf8"))).toHaveLength(300);
    expect(callsTo(streamOf(connector))[0]?.status).toBe(204);
  });

  it("respects a smaller maxBatchBytes", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger(), { maxBatchBytes: 10_000 });
    const connector = connectorFor(fixture.standin);
    const result = await sink.send(connector, events(100, 500));
    const calls = callsTo(streamOf(connector));
    expect(calls.length).toBeGreaterThanOrEqual(6);
    expect(result.calls).toBe(calls.length);
    expect(Math.max(...calls.map((call) => call.bodyBytes))).toBeLessThanOrEqual(10_000);
  });

  it("refuses a maxBatchBytes the SDK would split behind its back", () => {
    expect(() =>
      sinkFor(fixture.standin, fixture.deadLetter, recordingLogger(), { maxBatchBytes: 1_048_576 }),
    ).toThrow(/maxBatchBytes must be between 64 and 1000000/);
  });
});

describe("records too large for any call", () => {
  it("are dead-lettered without a call, counted and named, while the rest are delivered", async () => {
    const logger = recordingLogger();
    const sink = sinkFor(fixture.standin, fixture.deadLetter, logger);
    const connector = connectorFor(fixture.standin);
    const huge = { id: "huge", blob: "x".repeat(1_100_000) };

    const result = await sink.send(connector, [{ id: "small-1" }, huge, { id: "small-2" }]);

    expect(result).toMatchObject({ sent: 3, accepted: 2, deadLettered: 1, calls: 1 });
    const [receipt] = result.deadLetters;
    expect(receipt?.reason).toMatch(/larger than one call allows \(1048576 bytes\)/);
    const stored = JSON.parse(await readFile(receipt?.location ?? "", "utf8"));
    expect(stored).toMatchObject({
      connectorId: "contoso-audit",
      eventId: receipt?.eventId,
      dataCollectionRuleImmutableId: DCR_ID,
      streamName: streamOf(connector),
      row: { id: "huge", CcpEventId: receipt?.eventId },
    });
    expect(stored.row.blob).toHaveLength(1_100_000);
    expect((await fixture.standin.readRows(DCR_ID, streamOf(connector))).map((row) => row.id)).toEqual([
      "small-1",
      "small-2",
    ]);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        fields: expect.objectContaining({ eventId: receipt?.eventId }),
      }),
    );
  });
});

describe("retries", () => {
  it("waits for Retry-After on 429, then delivers", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    fixture.standin.setFault({ kind: "throttle", retryAfterSeconds: 1, times: 1 });

    const started = performance.now();
    const result = await sink.send(connector, events(3));
    const elapsed = performance.now() - started;

    expect(result.accepted).toBe(3);
    expect(elapsed).toBeGreaterThanOrEqual(950); // the pipeline's own backoff here is 5 ms
    expect(callsTo(streamOf(connector)).map((call) => call.status)).toEqual([429, 204]);
  });

  it("retries a 500 and delivers once", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    fixture.standin.setFault({ kind: "serverError", times: 1 });

    expect((await sink.send(connector, events(5))).accepted).toBe(5);
    expect(callsTo(streamOf(connector)).map((call) => call.status)).toEqual([500, 204]);
    expect(await fixture.standin.readRows(DCR_ID, streamOf(connector))).toHaveLength(5);
  });

  it("retries a dropped connection and delivers once", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    fixture.standin.setFault({ kind: "dropConnection", times: 1 });

    expect((await sink.send(connector, events(5))).accepted).toBe(5);
    expect(callsTo(streamOf(connector)).map((call) => call.status)).toEqual(["dropped", 204]);
    expect(await fixture.standin.readRows(DCR_ID, streamOf(connector))).toHaveLength(5);
  });

  it("a connection dropped after the rows were stored yields duplicates with the same key, never a loss", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    fixture.standin.setFault({ kind: "dropConnection", afterStore: true, times: 1 });

    expect((await sink.send(connector, events(2))).accepted).toBe(2);
    const keys = (await fixture.standin.readRows(DCR_ID, streamOf(connector))).map(
      (row) => row[EVENT_ID_COLUMN],
    );
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(2);
  });
});

describe("failures", () => {
  it("500 forever: send rejects, and everything reported accepted is stored", async () => {
    const logger = recordingLogger();
    const sink = sinkFor(fixture.standin, fixture.deadLetter, logger, { maxBatchBytes: 5_000 });
    const connector = connectorFor(fixture.standin);
    fixture.standin.setFault({ kind: "serverError", skip: 2 }); // two calls pass, then every call fails

    const error = await sink.send(connector, events(60, 300)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SinkDeliveryError);
    const failure = error as SinkDeliveryError;
    expect(failure.status).toBe(500);
    expect(failure.message).toMatch(/contoso-audit.*HTTP 500/);
    const stored = await fixture.standin.readRows(DCR_ID, streamOf(connector));
    expect(failure.progress.accepted).toBe(stored.length);
    expect(failure.progress.accepted).toBeGreaterThan(0);
    expect(failure.progress.undelivered).toBe(60 - stored.length);
    expect(`${failure.message} ${JSON.stringify(failure)} ${JSON.stringify(logger.lines)}`).not.toContain(
      STANDIN_TOKEN,
    );
  });

  it("401 with a token the service does not accept: rejects, nothing stored", async () => {
    const wrongToken: TokenCredential = {
      getToken: async () => ({ token: "test-wrong-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger(), { credential: wrongToken });
    const connector = connectorFor(fixture.standin);

    const error = await sink.send(connector, events(1)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SinkDeliveryError);
    expect((error as SinkDeliveryError).status).toBe(401);
    expect((error as SinkDeliveryError).message).not.toContain("test-wrong-token");
    expect(await fixture.standin.readRows(DCR_ID, streamOf(connector))).toEqual([]);
  });

  it("an abort fails the page instead of dropping the rest silently", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger(), { maxBatchBytes: 5_000 });
    const connector = connectorFor(fixture.standin);
    fixture.standin.setFault({ kind: "slow", delayMs: 100 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);

    const error = await sink.send(connector, events(60, 300), { signal: controller.signal }).catch((e) => e);

    expect(error).toBeInstanceOf(SinkDeliveryError);
    const { progress } = error as SinkDeliveryError;
    expect(progress.accepted + progress.undelivered).toBe(60);
    expect(progress.undelivered).toBeGreaterThan(0);
    // The stand-in may still store the call that was in flight: at least what was reported, never less.
    expect((await fixture.standin.readRows(DCR_ID, streamOf(connector))).length).toBeGreaterThanOrEqual(
      progress.accepted,
    );
  });

  it("notBefore holds every call, compressed, until it resolves; one that rejects sends nothing, ahead of the retries", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger(), { maxBatchBytes: 5_000 });
    const held = connectorFor(fixture.standin);
    let open = () => {};
    const sending = sink.send(held, events(30, 300), {
      notBefore: new Promise<void>((resolve) => {
        open = resolve;
      }),
    });
    // Every batch was built and compressed, then waited: the stand-in answers the other calls meanwhile.
    await sink.send(connectorFor(fixture.standin), events(1));
    expect(callsTo(streamOf(held))).toEqual([]);
    open();
    expect(await sending).toMatchObject({ accepted: 30 });
    expect(callsTo(streamOf(held)).length).toBeGreaterThan(1);

    // An error the retry policy would take for a dropped connection, had it come after it.
    const refused = connectorFor(fixture.standin);
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:10002"), { code: "ECONNREFUSED" });
    const error = await sink
      .send(refused, events(3), { notBefore: Promise.reject(cause) })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SinkDeliveryError);
    expect((error as SinkDeliveryError).message).toContain("ECONNREFUSED 127.0.0.1:10002");
    expect(callsTo(streamOf(refused))).toEqual([]);

    const client = new (monitorIngestion().LogsIngestionClient)(
      fixture.standin.endpoint,
      fixture.standin.tokenCredential,
    );
    uploadCall(client, fixture.standin.endpoint);
    const order = client.pipeline.getOrderedPolicies().map((policy) => policy.name);
    const at = (name: string) => order.indexOf(name);
    expect(at("GzippingPolicy")).toBeGreaterThanOrEqual(0);
    expect(at("GzippingPolicy")).toBeLessThan(at(notBeforePolicyName));
    expect(at(notBeforePolicyName)).toBeLessThan(at("defaultRetryPolicy"));
  });

  it("a connector without dcrConfig is a configuration error naming it", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    const connector = { ...connectorFor(fixture.standin), id: "no-destination" };
    connector.properties = { ...connector.properties, dcrConfig: undefined };

    await expect(sink.send(connector, events(1))).rejects.toThrow(SinkConfigurationError);
    await expect(sink.send(connector, events(1))).rejects.toThrow(
      /'no-destination' \(test\/connector\.json at \$\) has no destination: expected properties\.dcrConfig/,
    );
  });

  it("a destination override routes every connector to the configured place", async () => {
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger(), {
      destinationOverride: { streamName: "Custom-Overridden_CL" },
    });
    const connector = connectorFor(fixture.standin);
    await sink.send(connector, [{ id: "routed" }]);
    expect(await fixture.standin.readRows(DCR_ID, "Custom-Overridden_CL")).toEqual([
      expect.objectContaining({ id: "routed" }),
    ]);
  });
});

describe("memory", () => {
  it("holds none of a page's events while its upload waits on the service", async () => {
    setFlagsFromString("--expose-gc");
    const collectGarbage = runInNewContext("gc") as () => void;
    fixture.standin.setFault({ kind: "slow", delayMs: 1_000 });
    const connector = connectorFor(fixture.standin);
    const sink = sinkFor(fixture.standin, fixture.deadLetter, recordingLogger());
    // The page exists only in here: whatever holds its events afterwards is the sink.
    const { sending, held } = (() => {
      const page = Array.from({ length: 200 }, (_, id) => ({ id, action: "login", user: { id: `u${id}` } }));
      return { sending: sink.send(connector, page), held: page.map((event) => new WeakRef(event)) };
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    collectGarbage();
    const stillHeld = held.filter((event) => event.deref() !== undefined).length;
    await expect(sending).resolves.toMatchObject({ accepted: 200 });
    expect(stillHeld).toBe(0);
  });
});
