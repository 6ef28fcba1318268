/** The blob dead-letter store against a real Azurite, wired from app settings as the app wires it. */
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeadLetterStoreFromSettings } from "../../src/sink/settings.ts";
import { useAzurite } from "../support/azurite.ts";
import { connectorFor, recordingLogger, type StandinFixture, sinkFor, startFixture } from "./helpers.ts";

const CONTAINER = "test-dead-letter";
const useStorage = useAzurite();
let fixture: StandinFixture;
beforeAll(async () => {
  fixture = await startFixture();
});
afterAll(() => fixture?.close());

describe("blob dead-letter store", () => {
  it("stores a record too large for any call as one blob per connector and dedup key", async () => {
    const settings = { AzureWebJobsStorage: useStorage().connectionString, DEAD_LETTER_CONTAINER: CONTAINER };
    const deadLetter = createDeadLetterStoreFromSettings(settings, fixture.standin.tokenCredential);
    const sink = sinkFor(fixture.standin, deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);
    const huge = { id: "huge", blob: "q".repeat(1_100_000) };

    const first = await sink.send(connector, [huge]);
    const again = await sink.send(connector, [huge]); // a retried window: same blob, not a second copy

    const [receipt] = first.deadLetters;
    expect(first).toMatchObject({ sent: 1, accepted: 0, deadLettered: 1, calls: 0 });
    expect(again.deadLetters[0]?.location).toBe(receipt?.location);
    expect(receipt?.location).toBe(
      `${useStorage().blobEndpoint}/${CONTAINER}/contoso-audit/${receipt?.eventId}.json`,
    );
    expect(deadLetter.location).toBe(`${useStorage().blobEndpoint}/${CONTAINER}`);

    const container = BlobServiceClient.fromConnectionString(
      useStorage().connectionString,
    ).getContainerClient(CONTAINER);
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names).toEqual([`contoso-audit/${receipt?.eventId}.json`]);
    const content = JSON.parse(
      (await container.getBlobClient(names[0] ?? "").downloadToBuffer()).toString("utf8"),
    );
    expect(content).toMatchObject({
      connectorId: "contoso-audit",
      row: { id: "huge" },
      reason: receipt?.reason,
    });
    expect(content.row.blob).toHaveLength(1_100_000);
  });

  it("needs a storage setting, and says which", () => {
    expect(() => createDeadLetterStoreFromSettings({}, fixture.standin.tokenCredential)).toThrow(
      /AzureWebJobsStorage \(connection string\) or AzureWebJobsStorage__blobServiceUri/,
    );
  });

  it("a dead-letter store that cannot store fails the page instead of losing the record", async () => {
    const settings = {
      AzureWebJobsStorage: useStorage().connectionString.replace(
        /BlobEndpoint=[^;]+/,
        "BlobEndpoint=http://127.0.0.1:9/x",
      ),
    };
    const deadLetter = createDeadLetterStoreFromSettings(settings, fixture.standin.tokenCredential, {
      retryOptions: { maxTries: 1 },
    });
    const sink = sinkFor(fixture.standin, deadLetter, recordingLogger());
    const connector = connectorFor(fixture.standin);

    await expect(sink.send(connector, [{ blob: "q".repeat(1_100_000) }])).rejects.toThrow(
      /did not accept 1 of 1 rows .*dead-lettering record [0-9a-f]{32} in http:\/\/127\.0\.0\.1:9\/x\/ccp-poller-dead-letter failed/,
    );
  });
});
