/** Health settings and the record rule at its edges (the end-to-end cases are in health.test.ts). */
import { describe, expect, it } from "vitest";
import { healthOperationFor } from "../../src/health/reporter.ts";
import { readHealthSettings } from "../../src/health/settings.ts";

const destination = {
  HEALTH_DATA_COLLECTION_ENDPOINT: "https://dce-test-0000.westeurope-1.ingest.monitor.azure.com",
  HEALTH_DCR_IMMUTABLE_ID: "dcr-00000000000000000000000000000099",
};

describe("readHealthSettings", () => {
  it("is off without a destination, and defaults the stream and the heartbeat", () => {
    expect(readHealthSettings({})).toBeUndefined();
    expect(readHealthSettings(destination)).toEqual({
      destination: {
        dataCollectionEndpoint: destination.HEALTH_DATA_COLLECTION_ENDPOINT,
        dataCollectionRuleImmutableId: destination.HEALTH_DCR_IMMUTABLE_ID,
        streamName: "Custom-CcpPollerHealth",
      },
      heartbeatMinutes: 60,
    });
  });

  it("refuses a half-set destination, a stream that is not Custom-, and a heartbeat that is not positive", () => {
    expect(() =>
      readHealthSettings({ HEALTH_DCR_IMMUTABLE_ID: destination.HEALTH_DCR_IMMUTABLE_ID }),
    ).toThrow(/^App setting HEALTH_DATA_COLLECTION_ENDPOINT: expected a value/);
    expect(() => readHealthSettings({ ...destination, HEALTH_STREAM_NAME: "CcpPollerHealth" })).toThrow(
      'App setting HEALTH_STREAM_NAME: expected a DCR stream name starting with "Custom-", got "CcpPollerHealth"',
    );
    expect(() => readHealthSettings({ ...destination, HEALTH_HEARTBEAT_MINUTES: "0" })).toThrow(
      'App setting HEALTH_HEARTBEAT_MINUTES: expected a positive number of minutes, got "0"',
    );
  });
});

describe("healthOperationFor", () => {
  const sentAt = new Date("2026-01-01T00:00:00Z");
  const at = (minutes: number) => new Date(sentAt.getTime() + minutes * 60_000);
  const row = (healthLastStatus: string) => ({ healthLastStatus, healthLastSentAt: sentAt });

  it("sends a change at once, every failure, and a stable status only when the heartbeat is due", () => {
    expect(healthOperationFor("Warning", row("Success"), at(1), 60)).toBe("Data fetch status change");
    expect(healthOperationFor("Failure", row("Failure"), at(1), 60)).toBe("Data fetch failure");
    expect(healthOperationFor("Warning", row("Warning"), at(59.9), 60)).toBeUndefined();
    expect(healthOperationFor("Warning", row("Warning"), at(60), 60)).toBe("Data fetch heartbeat");
    expect(healthOperationFor("Success", row(""), at(0), 60)).toBe("Data fetch status change");
  });
});
