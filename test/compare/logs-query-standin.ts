/**
 * A local HTTPS stand-in of the Log Analytics Query API for the real `LogsQueryClient`:
 * `POST /v1/workspaces/{id}/query` and `POST /v1/{resourceId}/query`, Bearer auth, body `{ query, timespan }`,
 * response `{ tables: [{ name, columns: [{ name, type }], rows: [[...]] }] }` with datetimes as ISO strings
 * and dynamic values as JSON text, as the service sends them. It cannot run KQL: it understands the one
 * query shape src/compare/kql.ts generates (tables, window bounds, key columns, dropped columns) and
 * evaluates it over rows held per table.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AccessToken, TokenCredential } from "@azure/identity";
import { loadOrCreateCertificate } from "../../src/local/standin/credentials.ts";
import { type FakeServer, type RecordedRequest, startFakeServer } from "../fakes/server.ts";

export const LOGS_QUERY_SCOPE = "https://api.loganalytics.io/.default";
const TOKEN = "test-logs-query-token-not-a-secret";

export type TableRow = Record<string, unknown>;

export interface LogsQueryStandin {
  /** Give it to the client as `endpoint` (it includes the API version path, as the SDK expects). */
  endpoint: string;
  caCertPem: string;
  credential: TokenCredential;
  /** Rows per table name, as ingested (after the DCR transform). */
  tables: Map<string, TableRow[]>;
  requests: RecordedRequest[];
  /** The next query answers 200 with this error beside its tables: a partial result. */
  partialErrorNext(error: { code: string; message: string }): void;
  server: FakeServer;
  stop(): Promise<void>;
}

export async function startLogsQueryStandin(): Promise<LogsQueryStandin> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "ccp-logs-query-"));
  const certificate = await loadOrCreateCertificate(dataDir);
  const tables = new Map<string, TableRow[]>();
  let partialError: { code: string; message: string } | undefined;

  const server = await startFakeServer(
    (request) => {
      const route = /^\/v1\/(?:workspaces\/[^/]+|subscriptions\/.+\/workspaces\/[^/]+)\/query$/.exec(
        request.path,
      );
      if (request.method !== "POST" || route === null) {
        return { status: 404, json: { error: { code: "PathNotFoundError", message: request.path } } };
      }
      if (request.headers.authorization !== `Bearer ${TOKEN}`) {
        return { status: 401, json: { error: { code: "AuthorizationRequiredError", message: "No token" } } };
      }
      const body = JSON.parse(request.body) as { query: string; timespan?: string };
      const result = evaluate(body.query, tables);
      if ("error" in result) return { status: 400, json: { error: result.error } };
      const error = partialError;
      partialError = undefined;
      return { json: { tables: [result.table], ...(error ? { error } : {}) } };
    },
    { tls: { key: certificate.keyPem, cert: certificate.certPem } },
  );

  return {
    endpoint: `${server.origin}/v1`,
    caCertPem: certificate.certPem,
    credential: tokenCredential(),
    tables,
    requests: server.requests,
    partialErrorNext: (error) => {
      partialError = error;
    },
    server,
    stop: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function tokenCredential(): TokenCredential {
  return {
    async getToken(scopes): Promise<AccessToken> {
      const requested = Array.isArray(scopes) ? scopes : [scopes];
      if (!requested.includes(LOGS_QUERY_SCOPE)) throw new Error(`unexpected scope ${requested.join(" ")}`);
      return { token: TOKEN, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}

type Evaluated =
  | { table: { name: string; columns: { name: string; type: string }[]; rows: unknown[][] } }
  | { error: { code: string; message: string } };

function evaluate(query: string, tables: Map<string, TableRow[]>): Evaluated {
  const sides = [...query.matchAll(/\((\w+) \| extend Side = "(func|ccp)"\)/g)];
  const ingested = /where TimeGenerated >= datetime\(([^)]+)\)/.exec(query);
  const window =
    /todatetime\((\w+)\) >= datetime\(([^)]+)\) and todatetime\(\w+\) < datetime\(([^)]+)\)/.exec(query);
  const keys = [...query.matchAll(/column_ifexists\("(\w+)", ""\)/g)].map((m) => m[1] as string);
  const dropped = /bag_remove_keys\(pack_all\(\), dynamic\((\[.*\])\)\)/.exec(query);
  if (sides.length !== 2 || !ingested || !window || keys.length !== 2 || !dropped) {
    return { error: { code: "BadArgumentError", message: "The stand-in does not understand this query." } };
  }
  const [, timeColumn, from, to] = window as unknown as [string, string, string, string];
  const ignore = new Set(JSON.parse(dropped[1] as string) as string[]);
  const rows: unknown[][] = [];
  for (const [, table, side] of sides) {
    const stored = tables.get(table as string);
    if (stored === undefined) {
      return { error: { code: "BadArgumentError", message: `'${table}' could not be resolved to a table.` } };
    }
    for (const row of stored) {
      const at = Date.parse(String(row[timeColumn]));
      if (Date.parse(String(row.TimeGenerated)) < Date.parse(ingested[1] as string)) continue;
      if (!(at >= Date.parse(from) && at < Date.parse(to))) continue;
      const key = keys.map((k) => (row[k] === undefined ? "" : String(row[k]))).find((k) => k !== "") ?? "";
      const fields = Object.fromEntries(
        Object.entries({ ...row, Side: side }).filter(([name]) => !ignore.has(name)),
      );
      rows.push([side, key, new Date(at).toISOString(), JSON.stringify(fields)]);
    }
  }
  rows.sort(
    (a, b) =>
      String(a[0]).localeCompare(String(b[0])) ||
      String(a[2]).localeCompare(String(b[2])) ||
      String(a[1]).localeCompare(String(b[1])),
  );
  return {
    table: {
      name: "PrimaryResult",
      columns: [
        { name: "Side", type: "string" },
        { name: "Key", type: "string" },
        { name: "EventTime", type: "datetime" },
        { name: "Fields", type: "dynamic" },
      ],
      rows,
    },
  };
}

/** A row as the DCR transform (infra/jira-audit/transform.kql) writes it: `id` becomes `SourceRecordId`. */
export function asTableRow(row: Record<string, unknown>, ingestedAt: string): TableRow {
  const { id, ...fields } = row;
  return { TimeGenerated: ingestedAt, SourceRecordId: String(id), ...fields };
}
