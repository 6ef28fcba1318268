import { afterEach, describe, expect, it } from "vitest";
import {
  createFakeClock,
  createHttpClient,
  HttpStatusError,
  NetworkError,
  RateLimitedError,
  TimeoutError,
} from "../../src/engine/http.ts";
import type { OutgoingRequest } from "../../src/engine/types.ts";
import { type FakeServer, startFakeServer } from "../fakes/server.ts";

let server: FakeServer;
afterEach(async () => {
  await server?.close();
});

const ok = () => ({ json: { ok: true } });
const get = (path = "/items"): OutgoingRequest => ({
  method: "GET",
  url: new URL(path, server.origin),
  headers: {},
});
/** No jitter: the backoff equals its upper bound, so waits are exact. */
const noJitter = () => 1;

describe("createHttpClient", () => {
  it("serializes json, form and text bodies with their content types", async () => {
    server = await startFakeServer(ok);
    const http = createHttpClient();
    const url = new URL("/ingest", server.origin);
    await http.send({ method: "POST", url, headers: {}, body: { type: "json", value: { a: [1, "x"] } } });
    await http.send({
      method: "POST",
      url,
      headers: {},
      body: { type: "form", value: { a: "1 2", b: "&" } },
    });
    await http.send({
      method: "POST",
      url,
      headers: { "content-type": "application/xml" },
      body: { type: "text", text: "<q/>", contentType: "text/plain" },
    });
    expect(server.requests.map((r) => [r.headers["content-type"], r.body])).toEqual([
      ["application/json", '{"a":[1,"x"]}'],
      ["application/x-www-form-urlencoded", "a=1+2&b=%26"],
      ["application/xml", "<q/>"],
    ]);
  });

  it("retries a 5xx burst with exponential backoff, then returns the success", async () => {
    server = await startFakeServer(ok);
    server.fail({ kind: "status", status: 503 }, { kind: "status", status: 500 });
    const clock = createFakeClock();
    const http = createHttpClient({ clock, random: noJitter, backoffBaseMs: 100 });
    const response = await http.send(get(), { retryCount: 3 });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toEqual({ ok: true });
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it("honours Retry-After in seconds and as an HTTP date on 429", async () => {
    server = await startFakeServer(ok);
    const clock = createFakeClock("2026-03-01T10:00:00Z");
    server.fail(
      { kind: "status", status: 429, retryAfter: "7" },
      { kind: "status", status: 429, retryAfter: "Sun, 01 Mar 2026 10:00:37 GMT" },
    );
    const http = createHttpClient({ clock, random: noJitter });
    await http.send(get());
    // After the first 7 s wait the clock reads 10:00:07, so the date asks for 30 s more.
    expect(clock.sleeps).toEqual([7000, 30_000]);
  });

  it("waits until the rateLimitConfig reset header on 429", async () => {
    server = await startFakeServer(ok);
    const clock = createFakeClock("2026-03-01T10:00:00Z");
    const reset = Date.parse("2026-03-01T10:00:42Z") / 1000;
    server.fail({ kind: "status", status: 429, headers: { "x-rate-limit-reset": String(reset) } });
    const http = createHttpClient({
      clock,
      rateLimitConfig: {
        extraction: {
          source: "CustomHeaders",
          headers: { reset: { name: "X-Rate-Limit-Reset", format: "UnixTimeSeconds" } },
        },
      },
    });
    await http.send(get());
    expect(clock.sleeps).toEqual([42_000]);
  });

  it("fails with RateLimitedError instead of sleeping through a huge Retry-After", async () => {
    server = await startFakeServer(ok);
    server.fail({ kind: "status", status: 429, retryAfter: "7200" });
    const clock = createFakeClock();
    const http = createHttpClient({ clock, maxWaitMs: 60_000 });
    const error = await http.send(get()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).requestedWaitMs).toBe(7_200_000);
    expect((error as Error).message).toMatch(/HTTP 429 and asked to wait 2\.0 h, more than the 60 s cap/);
    expect(clock.sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it("throws HttpStatusError after the retries are exhausted", async () => {
    server = await startFakeServer(ok);
    server.fail(...Array.from({ length: 3 }, () => ({ kind: "status", status: 502 }) as const));
    const http = createHttpClient({ clock: createFakeClock() });
    const error = await http.send(get(), { retryCount: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(502);
    expect(server.requests).toHaveLength(3);
  });

  it("does not retry a 4xx other than 408 and 429", async () => {
    server = await startFakeServer(ok);
    server.fail({ kind: "status", status: 404, body: '{"message":"no such project"}' });
    const http = createHttpClient({ clock: createFakeClock() });
    const error = await http.send(get("/rest/api/3/x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as Error).message).toBe(
      `GET ${server.origin}/rest/api/3/x returned HTTP 404: {"message":"no such project"}`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it("times out a server that is slow to answer, and one that stalls mid-body", async () => {
    server = await startFakeServer(ok);
    server.fail({ kind: "slowHeaders", delayMs: 2000 }, { kind: "slowBody", delayMs: 2000 });
    const http = createHttpClient({ clock: createFakeClock() });
    await expect(http.send(get(), { timeoutMs: 100, retryCount: 0 })).rejects.toBeInstanceOf(TimeoutError);
    const error = await http.send(get(), { timeoutMs: 100, retryCount: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe(`GET ${server.origin}/items timed out after 100 ms`);
  });

  it("retries a dropped connection as a network error", async () => {
    server = await startFakeServer(ok);
    server.fail({ kind: "reset" });
    const clock = createFakeClock();
    const http = createHttpClient({ clock });
    expect((await http.send(get())).status).toBe(200);
    expect(server.requests).toHaveLength(2);

    server.fail({ kind: "reset" });
    await expect(http.send(get(), { retryCount: 0 })).rejects.toBeInstanceOf(NetworkError);
  });

  it("spaces requests by the rateLimitQPS budget shared across concurrent sends", async () => {
    server = await startFakeServer(ok);
    const clock = createFakeClock();
    const http = createHttpClient({ clock, rateLimitQPS: 4 });
    const start = clock.now().getTime();
    await Promise.all([http.send(get()), http.send(get()), http.send(get())]);
    // Three requests at 4 per second: the first goes at once, the last 500 ms later.
    expect(clock.now().getTime() - start).toBe(500);
    expect(server.requests).toHaveLength(3);
  });

  it("keeps header values and secret query values out of error messages", async () => {
    server = await startFakeServer(ok);
    server.fail({ kind: "status", status: 400, body: "bad key test-api-key-9f8e" });
    const http = createHttpClient({ secrets: ["test-api-key-9f8e"] });
    const error = await http
      .send({
        method: "GET",
        url: new URL("/q?api_key=test-api-key-9f8e&from=2026", server.origin),
        headers: { authorization: "Bearer test-token-77aa" },
      })
      .catch((e: unknown) => e);
    const message = (error as Error).message;
    expect(message).toContain("api_key=***&from=2026");
    expect(message).toContain("bad key ***");
    expect(message).not.toMatch(/test-api-key-9f8e|test-token-77aa/);
  });
});
