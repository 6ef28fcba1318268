/** The stand-in's REST contract, faults and durability, spoken to with plain HTTPS requests. */
import { once } from "node:events";
import { appendFile } from "node:fs/promises";
import { request } from "node:https";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createStandinTokenCredential,
  type IngestionStandin,
  readStoredRows,
  STANDIN_TOKEN,
  type StandinChild,
  spawnIngestionStandin,
  startIngestionStandin,
} from "../../src/local/ingestion-standin.ts";
import { createRowStore } from "../../src/local/standin/row-store.ts";
import { createFolderDeadLetterStore } from "../../src/sink/dead-letter.ts";
import {
  connectorFor,
  DCR_ID,
  events,
  makeTempDir,
  recordingLogger,
  type StandinFixture,
  sinkFor,
  startFixture,
  streamOf,
} from "./helpers.ts";

const STREAM = "Custom-Contract_CL";

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(
  standin: { endpoint: string; caCertPem: string },
  body: Buffer | string,
  options: { headers?: Record<string, string>; path?: string } = {},
): Promise<RawResponse> {
  const url = new URL(
    options.path ?? `/dataCollectionRules/${DCR_ID}/streams/${STREAM}?api-version=2023-01-01`,
    standin.endpoint,
  );
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: "POST",
        ca: standin.caCertPem,
        agent: false,
        headers: {
          authorization: `Bearer ${STANDIN_TOKEN}`,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

let fixture: StandinFixture;
let standin: IngestionStandin;
beforeAll(async () => {
  fixture = await startFixture();
  standin = fixture.standin;
});
afterEach(() => standin.setFault(undefined));
afterAll(() => fixture?.close());

describe("REST contract", () => {
  it("stores a plain JSON array and answers 204", async () => {
    const response = await post(standin, JSON.stringify([{ n: 1 }, { n: 2 }]));
    expect(response.status).toBe(204);
    expect(await standin.readRows(DCR_ID, STREAM)).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
  });

  it("decodes gzip bodies", async () => {
    const stream = "Custom-Gzip_CL";
    const body = gzipSync(JSON.stringify([{ zipped: true }]));
    const response = await post(standin, body, {
      headers: { "content-encoding": "gzip" },
      path: `/dataCollectionRules/${DCR_ID}/streams/${stream}?api-version=2023-01-01`,
    });
    expect(response.status).toBe(204);
    expect(await standin.readRows(DCR_ID, stream)).toEqual([{ zipped: true }]);
  });

  it("answers 401 with a service-shaped body when the bearer token is missing", async () => {
    const response = await post(standin, "[]", { headers: { authorization: "" } });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: "InvalidAuthenticationToken", message: expect.any(String) },
    });
  });

  it.each([
    ["an object", '{"n":1}', "InvalidPayload"],
    ["an array of non-objects", "[1,2]", "InvalidPayload"],
    ["not JSON", "[{", "InvalidJson"],
  ])("answers 400 to %s", async (_what, body, code) => {
    const response = await post(standin, body);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe(code);
  });

  it("answers 400 without the api-version", async () => {
    const response = await post(standin, "[]", { path: `/dataCollectionRules/${DCR_ID}/streams/${STREAM}` });
    expect(response.status).toBe(400);
  });

  it("answers 413 with the service's body over 1,048,576 bytes, uncompressed or after gunzip", async () => {
    const oversized = JSON.stringify([{ text: "z".repeat(1_048_576) }]);
    const plain = await post(standin, oversized);
    const zipped = await post(standin, gzipSync(oversized), { headers: { "content-encoding": "gzip" } });
    for (const response of [plain, zipped]) {
      expect(response.status).toBe(413);
      expect(JSON.parse(response.body)).toEqual({
        error: {
          code: "ContentLengthLimitExceeded",
          message: expect.stringMatching(
            /^Maximum allowed content length: 1048576 bytes \(1 MB\)\. Provided content length: \d+ bytes\.$/,
          ),
        },
      });
    }
    expect((await standin.readRows(DCR_ID, STREAM)).some((row) => "text" in row)).toBe(false);
  });
});

describe("faults", () => {
  it("fails exactly the Nth call", async () => {
    standin.setFault({ kind: "serverError", status: 503, skip: 2, times: 1 });
    const statuses = [];
    for (let call = 0; call < 4; call += 1) statuses.push((await post(standin, "[]")).status);
    expect(statuses).toEqual([204, 204, 503, 204]);
  });

  it("throttles with Retry-After", async () => {
    standin.setFault({ kind: "throttle", retryAfterSeconds: 7 });
    const response = await post(standin, "[]");
    expect(response.status).toBe(429);
    expect(response.headers["retry-after"]).toBe("7");
  });

  it("answers slowly", async () => {
    standin.setFault({ kind: "slow", delayMs: 150 });
    const started = performance.now();
    expect((await post(standin, "[]")).status).toBe(204);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("drops the connection", async () => {
    standin.setFault({ kind: "dropConnection" });
    await expect(post(standin, "[]")).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it("can be switched from another process through the control endpoint", async () => {
    const set = await post(standin, JSON.stringify({ kind: "serverError", times: 1 }), {
      path: "/_standin/fault",
    });
    expect(set.status).toBe(204);
    expect((await post(standin, "[]")).status).toBe(500);
    expect((await post(standin, "[]")).status).toBe(204);
    expect((await post(standin, '{"kind":"explode"}', { path: "/_standin/fault" })).status).toBe(400);
  });
});

describe("durability", () => {
  it("keeps rows and certificate across a restart on the same folder and port", async () => {
    const temp = await makeTempDir("standin-restart");
    try {
      const first = await startIngestionStandin({ dataDir: temp.dir });
      await post(first, JSON.stringify([{ before: "restart" }]));
      await first.stop();

      const second = await startIngestionStandin({ dataDir: temp.dir, port: first.port });
      try {
        expect(second.caCertPem).toBe(first.caCertPem);
        expect(second.endpoint).toBe(first.endpoint);
        expect((await post(first, JSON.stringify([{ after: "restart" }]))).status).toBe(204);
        expect(await second.readRows(DCR_ID, STREAM)).toEqual([{ before: "restart" }, { after: "restart" }]);
      } finally {
        await second.stop();
      }
    } finally {
      await temp.remove();
    }
  });
  it("skips a line torn by a kill mid-write and keeps appending after it", async () => {
    const temp = await makeTempDir("standin-torn");
    try {
      const store = createRowStore(temp.dir);
      await store.append(DCR_ID, STREAM, [{ n: 1 }]);
      const file = path.join(temp.dir, "rows", DCR_ID, `${STREAM}.ndjson`);
      await appendFile(file, '{"n":2,"half'); // what a kill during the write leaves behind (no 204 was sent)
      await store.append(DCR_ID, STREAM, [{ n: 3 }]);
      expect(await readStoredRows(temp.dir, DCR_ID, STREAM)).toEqual([{ n: 1 }, { n: 3 }]);
    } finally {
      await temp.remove();
    }
  });
});

describe("as a child process", () => {
  const children: StandinChild[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.stop()));
  });

  async function spawnChild(dataDir: string, port?: number): Promise<StandinChild> {
    const child = await spawnIngestionStandin({ dataDir, port });
    children.push(child);
    return child;
  }

  it("serves the sink from another process and keeps every 204-ed row through SIGKILL", async () => {
    const temp = await makeTempDir("standin-child");
    try {
      const dataDir = path.join(temp.dir, "standin");
      const first = await spawnChild(dataDir);
      expect(first.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

      // The sink in this process, the stand-in in the child: trust comes from the announced CA file.
      const remote = { ...first, tokenCredential: createStandinTokenCredential() };
      const sink = sinkFor(
        remote,
        createFolderDeadLetterStore(path.join(temp.dir, "dl")),
        recordingLogger(),
        {
          maxBatchBytes: 10_000,
        },
      );
      const connector = connectorFor(remote);
      const { accepted } = await sink.send(connector, events(100, 300));
      first.process.kill("SIGKILL");
      await once(first.process, "exit");

      expect(accepted).toBe(100);
      expect(await readStoredRows(dataDir, DCR_ID, streamOf(connector))).toHaveLength(100);

      const second = await spawnChild(dataDir, Number(new URL(first.endpoint).port));
      expect(second.endpoint).toBe(first.endpoint);
      expect((await sink.send(connector, [{ id: "after-restart" }])).accepted).toBe(1);
      await second.stop();
      expect(second.process.exitCode).toBe(0);
      expect(await readStoredRows(dataDir, DCR_ID, streamOf(connector))).toHaveLength(101);
    } finally {
      await temp.remove();
    }
  });

  it("reports a start failure with the child's message", async () => {
    await expect(spawnIngestionStandin({ dataDir: "", port: 1 })).rejects.toThrow(
      /did not start: .*--data-dir/,
    );
  });
});
