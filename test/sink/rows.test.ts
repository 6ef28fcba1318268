/**
 * The dedup key and the row sizes the batcher relies on. The key is part of every stored row, so it must not
 * change across releases (pinned values), and `rowSerializer`'s shortcut must agree with serializing the row.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { batchBody, bodyBytes, createBodyBuffers, writtenRowJson } from "../../src/sink/batches.ts";
import { canonicalJson, eventId, rowJson, rowSerializer, toRow } from "../../src/sink/rows.ts";

const awkwardEvents: unknown[] = [
  { id: 1, summary: "User created", created: "2026-01-01T00:00:00Z" },
  { b: 2, a: { d: [3, { z: 1, y: null }], c: "é ✓ \u2028" } },
  { nested: { deeper: { deepest: [[], {}, [{ k: "v" }]] } } },
  { CcpEventId: "forged", id: 7 },
  { shared: "from the event", other: 1 },
  { withUndefined: undefined, kept: true },
  { date: new Date("2026-01-01T00:00:00Z") },
  { ["__proto__"]: { polluted: true }, plain: 1 },
  "a bare string event",
  42,
  null,
  [1, 2, 3],
  { big: "x".repeat(10_000) },
  {},
];

describe("dedup key", () => {
  it("is the same for the same event whatever its key order, and differs by connector", () => {
    expect(eventId("jira-audit", { a: 1, b: { c: 2, d: 3 } })).toBe(
      eventId("jira-audit", { b: { d: 3, c: 2 }, a: 1 }),
    );
    expect(eventId("jira-audit", { a: 1 })).not.toBe(eventId("github-audit", { a: 1 }));
    expect(eventId("jira-audit", { a: 1 })).toMatch(/^[0-9a-f]{32}$/);
  });

  it("keeps its pinned values, so rows stored by earlier releases dedup against new ones", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(eventId("jira-audit", { id: 1, summary: "User created" })).toBe(
      eventId("jira-audit", JSON.parse('{"summary":"User created","id":1}')),
    );
    // The documented formula (docs/deploying.md, DCR column docs): sha256(connectorId + canonical JSON), first 32 hex.
    const documented = createHash("sha256")
      .update('jira-audit{"id":1,"summary":"User created"}')
      .digest("hex")
      .slice(0, 32);
    expect(eventId("jira-audit", { summary: "User created", id: 1 })).toBe(documented);
  });

  it("orders keys as a plain sort does, for few keys and many, in any case and script", () => {
    const sortingReplacer = (_key: string, value: unknown) =>
      value !== null && typeof value === "object" && !Array.isArray(value)
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((key) => [key, (value as Record<string, unknown>)[key]]),
          )
        : value;
    const manyKeys = Object.fromEntries(
      Array.from({ length: 40 }, (_, index) => [`k${(index * 7919) % 97}`, index]),
    );
    for (const event of [
      { b: 1, B: 2, a: 3, _: 4, é: 5, Z: 6, ä: 7, "a b": 8, "": 9 },
      { zeta: { y: 1, x: [{ d: 1, c: 2 }] }, alpha: manyKeys, "10": "ten", "9": "nine" },
      manyKeys,
    ]) {
      expect(canonicalJson(event)).toBe(JSON.stringify(event, sortingReplacer));
    }
  });
});

describe("rowSerializer", () => {
  it("gives each event's fields, the add-ons over them and the key, sized exactly, for awkward events too", () => {
    const addOnSets: Record<string, string>[] = [{ shared: "from the add-on", Source: "ccp-poller" }, {}];
    for (const addOns of addOnSets) {
      const serialize = rowSerializer("jira-audit", addOns);
      for (const event of awkwardEvents) {
        const label = `${JSON.stringify(event)?.slice(0, 80)} with ${Object.keys(addOns).length} add-ons`;
        const sent = JSON.parse(JSON.stringify(event) ?? "null") as unknown;
        const fields =
          sent !== null && typeof sent === "object" && !Array.isArray(sent) ? sent : { RawData: sent };
        const actual = serialize(event);
        const key = eventId("jira-audit", event);
        const json = rowJson(actual);
        expect(JSON.parse(json), label).toEqual({ ...fields, ...addOns, CcpEventId: key });
        expect(actual.eventId, label).toBe(key);
        expect(actual.bytes, label).toBe(Buffer.byteLength(json));
        expect(toRow("jira-audit", event, addOns)).toEqual(JSON.parse(json));
      }
    }
  });
});

describe("batchBody", () => {
  it("writes exactly the JSON array of the rows, sized as bodyBytes says, for awkward events too", () => {
    const addOnSets: Record<string, string>[] = [{ Source: "ccp-poller", é: "✓" }, {}];
    for (const addOns of addOnSets) {
      const rows = awkwardEvents.map(rowSerializer("jira-audit", addOns));
      const batch = batchBody(rows);
      expect(batch.body.toString("utf8")).toBe(`[${rows.map(rowJson).join(",")}]`);
      expect(batch.body.length).toBe(bodyBytes(rows));
      expect(rows.map((_, index) => writtenRowJson(batch, index))).toEqual(rows.map(rowJson));
      expect(batchBody([]).body.toString()).toBe("[]");
    }
  });
});

describe("createBodyBuffers", () => {
  it("reuses a buffer only once its body was released, and gives a larger body one of its own", () => {
    const rows = awkwardEvents.slice(0, 4).map(rowSerializer("jira-audit", {}));
    const bodies = createBodyBuffers(64 * 1024);
    const first = bodies.write(rows).body;
    const second = bodies.write(rows).body;
    expect(second.buffer).not.toBe(first.buffer);
    expect(first.toString()).toBe(batchBody(rows).body.toString());
    bodies.release(first);
    const third = bodies.write(rows.slice(0, 2)).body;
    expect(third.buffer).toBe(first.buffer);
    expect(third.toString()).toBe(batchBody(rows.slice(0, 2)).body.toString());

    const big = rowSerializer("jira-audit", {})({ blob: "x".repeat(70 * 1024) });
    const alone = bodies.write([big]).body;
    expect(alone.length).toBe(bodyBytes([big]));
    bodies.release(alone);
    expect(bodies.write(rows).body.buffer).not.toBe(alone.buffer);
  });

  it("cuts any run of a written batch's rows into a batch of its own, from its bytes alone", () => {
    const rows = awkwardEvents.map(rowSerializer("jira-audit", { Source: "ccp-poller" }));
    const bodies = createBodyBuffers(64 * 1024);
    const whole = bodies.write(rows);
    for (const [from, to] of [
      [0, 1],
      [0, Math.ceil(rows.length / 2)],
      [Math.ceil(rows.length / 2), rows.length],
      [1, rows.length - 1],
      [rows.length - 1, rows.length],
    ] as const) {
      const part = bodies.slice(whole, from, to);
      expect(part.body.toString(), `${from}-${to}`).toBe(batchBody(rows.slice(from, to)).body.toString());
      expect([...part.ends], `${from}-${to}`).toEqual([...batchBody(rows.slice(from, to)).ends]);
    }
  });
});
