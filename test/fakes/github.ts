/**
 * GitHub organization audit log (`GET /orgs/{org}/audit-log`), as documented: `Authorization: token …` or
 * `Bearer …`; `phrase` search with `created:A..B` (inclusive); `per_page` (default 30, max 100); cursor
 * paging with `after`, announced in a `Link` header (`rel="next"`), newest first; events carry
 * `@timestamp` (epoch ms), `_document_id`, `action`, `actor`, `created_at`.
 */
import { type FakeServer, startFakeServer } from "./server.ts";

export interface GitHubAuditEvent {
  "@timestamp": number;
  _document_id: string;
  action: string;
  actor: string;
  created_at: number;
  [field: string]: unknown;
}

export interface GitHubFake extends FakeServer {
  readonly endpoint: string;
}

export async function startGitHubFake(options: {
  token?: string;
  org?: string;
  events: GitHubAuditEvent[];
}): Promise<GitHubFake> {
  const token = options.token ?? "test-api-key-github-0000";
  const path = `/organizations/${options.org ?? "example-org"}/audit-log`;
  const events = [...options.events].sort((a, b) => b["@timestamp"] - a["@timestamp"]);

  const server = await startFakeServer((request) => {
    if (request.path !== path) return { status: 404, json: { message: "Not Found" } };
    const auth = request.headers.authorization ?? "";
    if (auth !== `token ${token}` && auth !== `Bearer ${token}`) {
      return { status: 401, json: { message: "Bad credentials" } };
    }
    const created = /created:(\S+)\.\.(\S+)/.exec(request.query.phrase ?? "");
    const from = created ? Date.parse(created[1] as string) : Number.NEGATIVE_INFINITY;
    const to = created ? Date.parse(created[2] as string) : Number.POSITIVE_INFINITY;
    if (Number.isNaN(from) || Number.isNaN(to)) return { status: 422, json: { message: "Invalid phrase" } };
    const perPage = Math.min(Number(request.query.per_page ?? 30), 100);
    const matching = events.filter((e) => e["@timestamp"] >= from && e["@timestamp"] <= to);
    const start = request.query.after ? Number(Buffer.from(request.query.after, "base64url").toString()) : 0;
    const page = matching.slice(start, start + perPage);
    const headers: Record<string, string> = {};
    if (start + perPage < matching.length) {
      const next = new URL(`${path}?${request.rawQuery}`, server.origin);
      next.searchParams.set("after", Buffer.from(String(start + perPage)).toString("base64url"));
      next.searchParams.delete("before");
      headers.link = `<${next.href}>; rel="next"`;
    }
    return { headers, json: page };
  });
  return { ...server, endpoint: `${server.origin}${path}` };
}

export function gitHubEvents(count: number, start: string, everySeconds = 60): GitHubAuditEvent[] {
  const first = Date.parse(start);
  return Array.from({ length: count }, (_, i) => {
    const at = first + i * everySeconds * 1000;
    return {
      "@timestamp": at,
      _document_id: `doc-${i + 1}`,
      action: "repo.create",
      actor: "octocat",
      created_at: at,
    };
  });
}
