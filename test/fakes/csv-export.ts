/**
 * A CSV export over gzip, the shape of many "download the report" APIs: `GET /export?start=&end=` with an
 * `x-api-key` header, answered with a gzip file (`application/gzip`, no Content-Encoding: the client must
 * know, as with `isGzipCompressed`), a header row, a configurable delimiter and RFC 4180 quoting.
 */
import { gzipSync } from "node:zlib";
import { type FakeServer, startFakeServer } from "./server.ts";

export async function startCsvExportFake(options: {
  apiKey?: string;
  rows: Array<Record<string, string> & { timestamp: string }>;
  delimiter?: string;
  /** Split the gzip into several members (multi-gzip). */
  members?: number;
}): Promise<FakeServer & { endpoint: string }> {
  const apiKey = options.apiKey ?? "test-api-key-csv-0000";
  const delimiter = options.delimiter ?? ",";
  const columns = Object.keys(options.rows[0] ?? { timestamp: "" });
  const quote = (value: string) =>
    /["\r\n]/.test(value) || value.includes(delimiter) ? `"${value.replace(/"/g, '""')}"` : value;

  const server = await startFakeServer((request) => {
    if (request.path !== "/export") return { status: 404, body: "" };
    if (request.headers["x-api-key"] !== apiKey) return { status: 403, body: "Forbidden" };
    const start = Date.parse(request.query.start ?? "");
    const end = Date.parse(request.query.end ?? "");
    const rows = options.rows.filter(
      (r) => Date.parse(r.timestamp) >= start && Date.parse(r.timestamp) < end,
    );
    const lines = [columns, ...rows.map((r) => columns.map((c) => r[c] ?? ""))].map(
      (cells) => `${cells.map(quote).join(delimiter)}\r\n`,
    );
    const members = Math.max(1, options.members ?? 1);
    const perMember = Math.ceil(lines.length / members);
    const body = Buffer.concat(
      Array.from({ length: members }, (_, i) =>
        gzipSync(lines.slice(i * perMember, (i + 1) * perMember).join("")),
      ),
    );
    return { headers: { "content-type": "application/gzip" }, body };
  });
  return { ...server, endpoint: `${server.origin}/export` };
}
