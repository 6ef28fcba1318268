import { afterEach, describe, expect, it } from "vitest";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { startCsvExportFake } from "../fakes/csv-export.ts";
import { startProofpointFake, type TapMessage } from "../fakes/proofpoint.ts";
import type { FakeServer } from "../fakes/server.ts";

let fake: FakeServer;
afterEach(async () => {
  await fake?.close();
});

const message = (guid: string, messageTime: string): TapMessage => ({
  GUID: guid,
  messageTime,
  sender: "sender@example.com",
  recipient: ["user@example.com"],
  subject: "Invoice",
});

describe("no paging", () => {
  it("Proofpoint TAP: one request with interval=start/end, Basic auth, events from messagesDelivered", async () => {
    fake = await startProofpointFake({
      delivered: [
        message("g1", "2026-01-01T09:59:59Z"),
        message("g2", "2026-01-01T10:00:00Z"),
        message("g3", "2026-01-01T10:04:59Z"),
        message("g4", "2026-01-01T10:05:00Z"),
      ],
    });
    const connector = makeConnector(
      {
        auth: {
          type: "Basic",
          userName: "test-service-principal-0000",
          password: "test-password-proofpoint-0000",
        },
        request: {
          apiEndpoint: `${fake.origin}/v2/siem/messages/delivered`,
          queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
          queryTimeIntervalAttributeName: "interval",
          queryTimeIntervalDelimiter: "/",
          queryParameters: { format: "json" },
        },
        response: { eventsJsonPaths: ["$.messagesDelivered"] },
      },
      ["test-password-proofpoint-0000"],
    );
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z")),
    );
    expect(pages.map((p) => p.events.map((e) => (e as TapMessage).GUID))).toEqual([["g2", "g3"]]);
    expect(fake.requests.map((r) => `${r.method} ${r.path}?${r.rawQuery}`)).toEqual([
      "GET /v2/siem/messages/delivered?interval=2026-01-01T10%3A00%3A00Z%2F2026-01-01T10%3A05%3A00Z&format=json",
    ]);
  });

  it("CSV over gzip: decompresses a multi-member gzip and keys rows by the header", async () => {
    const rows = [
      { timestamp: "2026-01-01T00:01:00Z", user: "alice", detail: 'said "hi"; left' },
      { timestamp: "2026-01-01T00:02:00Z", user: "bob", detail: "line1\nline2" },
      { timestamp: "2026-01-01T00:03:00Z", user: "carol", detail: "" },
      { timestamp: "2026-01-01T00:09:00Z", user: "dave", detail: "outside" },
    ];
    const csv = await startCsvExportFake({ rows, delimiter: ";", members: 2 });
    fake = csv;
    const connector = makeConnector(
      {
        auth: {
          type: "APIKey",
          apiKeyName: "x-api-key",
          apiKeyIdentifier: "",
          apiKey: "test-api-key-csv-0000",
        },
        request: {
          apiEndpoint: csv.endpoint,
          queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
          startTimeAttributeName: "start",
          endTimeAttributeName: "end",
        },
        response: {
          eventsJsonPaths: ["$"],
          format: "csv",
          csvDelimiter: ";",
          isGzipCompressed: true,
          compressionAlgo: "multi-gzip",
        },
      },
      ["test-api-key-csv-0000"],
    );
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(pages).toHaveLength(1);
    expect(pages[0]?.events).toEqual(rows.slice(0, 3));
    expect(csv.requests[0]?.headers["x-api-key"]).toBe("test-api-key-csv-0000");
  });
});
