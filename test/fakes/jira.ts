/**
 * Jira Cloud audit records (`GET /rest/api/3/auditing/record`), as documented: Basic auth with an email
 * and API token; `offset` (default 0), `limit` (default and maximum 1000), `from`/`to` (ISO 8601, both
 * inclusive: "on or after" / "on or before"), `filter`; response `{ offset, limit, total, records }`, newest
 * first. Records can be seeded up front or added over time (`add`), so demos and state tests can advance.
 */
import { basicCredentials, type FakeServer, type FakeServerOptions, startFakeServer } from "./server.ts";

export interface JiraRecord {
  id: number;
  summary: string;
  /** ISO 8601. */
  created: string;
  category?: string;
  eventSource?: string;
  [field: string]: unknown;
}

export interface JiraFakeOptions {
  user?: string;
  apiToken?: string;
  records?: JiraRecord[];
  maxLimit?: number;
  tls?: FakeServerOptions["tls"];
}

export interface JiraFake extends FakeServer {
  /** The `apiEndpoint` a connector should use. */
  readonly endpoint: string;
  /** Current records (mutable through `add`). */
  readonly records: readonly JiraRecord[];
  add(...records: JiraRecord[]): void;
}

export const JIRA_PATH = "/rest/api/3/auditing/record";

export async function startJiraFake(options: JiraFakeOptions = {}): Promise<JiraFake> {
  const user = options.user ?? "test-user@example.com";
  const apiToken = options.apiToken ?? "test-api-token-jira-0000";
  const maxLimit = options.maxLimit ?? 1000;
  const records = [...(options.records ?? [])];

  const server = await startFakeServer((request) => {
    if (request.path !== JIRA_PATH) return { status: 404, json: { errorMessages: ["Not Found"] } };
    const credentials = basicCredentials(request);
    if (credentials?.user !== user || credentials.password !== apiToken) {
      return {
        status: 401,
        body: "Client must be authenticated to access this resource.",
        headers: { "content-type": "text/plain" },
      };
    }
    const from = parseTime(request.query.from);
    const to = parseTime(request.query.to);
    if (from === null || to === null) {
      return { status: 400, json: { errorMessages: ["The 'from' or 'to' date is not a valid date."] } };
    }
    const offset = Number(request.query.offset ?? 0);
    const limit = Math.min(Number(request.query.limit ?? maxLimit), maxLimit);
    const matching = records
      .filter((record) => {
        const created = Date.parse(record.created);
        return (from === undefined || created >= from) && (to === undefined || created <= to);
      })
      .sort((a, b) => Date.parse(b.created) - Date.parse(a.created) || b.id - a.id);
    return {
      json: { offset, limit, total: matching.length, records: matching.slice(offset, offset + limit) },
    };
  }, options);
  return {
    ...server,
    endpoint: `${server.origin}${JIRA_PATH}`,
    records,
    add: (...more) => records.push(...more),
  };
}

/** undefined when absent, null when unparsable. */
function parseTime(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
}

/** `count` records, one every `everySeconds` from `start`, ids from 1. */
export function jiraRecords(count: number, start: string, everySeconds = 60): JiraRecord[] {
  const first = Date.parse(start);
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    summary: `User created ${i + 1}`,
    created: new Date(first + i * everySeconds * 1000).toISOString(),
    category: "user management",
    eventSource: "Jira",
  }));
}
