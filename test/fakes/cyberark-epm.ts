/**
 * CyberArk EPM (as the corpus's CyberArkEPM_PollingConfig.json calls it): an OAuth2 client-credentials token
 * at `POST /oauth2/token/<app>`; `GET /EPM/API/Sets` lists the sets (`{ Sets: [{ Id, Name }] }`, no paging);
 * `POST /EPM/API/Sets/<id>/Events/Search?nextCursor=…&limit=…` with a JSON body `{ filter: "arrivalTime GE
 * <start> AND arrivalTime LE <end>" }` returns `{ events, nextCursor }`, `nextCursor` null on the last page.
 * Every data call needs `Authorization: Bearer <token>`. Events are the per-set lists given to the fake.
 */
import { type FakeServer, startFakeServer } from "./server.ts";

export interface EpmEvent {
  eventId: string;
  arrivalTime: string;
  [field: string]: unknown;
}

export interface EpmSet {
  Id: string;
  Name: string;
  events: EpmEvent[];
}

export const EPM_CLIENT_SECRET = "test-client-secret-epm-0000";
const TOKEN = "test-access-token-epm-0000";

export interface EpmFake extends FakeServer {
  /** The most event searches the fake was answering at one time. */
  mostSearchesAtOnce(): number;
}

export async function startCyberArkEpmFake(options: {
  sets: EpmSet[];
  /** Each event search takes this long to answer (for concurrency checks). */
  searchDelayMs?: number;
}): Promise<EpmFake> {
  let open = 0;
  let most = 0;
  const server = await startFakeServer(async (request) => {
    if (request.method === "POST" && request.path.startsWith("/oauth2/token/")) {
      const form = new URLSearchParams(request.body);
      if (form.get("client_secret") !== EPM_CLIENT_SECRET)
        return { status: 401, json: { error: "invalid_client" } };
      return { json: { access_token: TOKEN, token_type: "Bearer", expires_in: 3600 } };
    }
    if (request.headers.authorization !== `Bearer ${TOKEN}`)
      return { status: 401, json: { error: "unauthorized" } };
    if (request.method === "GET" && request.path === "/EPM/API/Sets") {
      return {
        json: { Sets: options.sets.map(({ Id, Name }) => ({ Id, Name })), SetsCount: options.sets.length },
      };
    }
    const search = /^\/EPM\/API\/Sets\/([^/]+)\/Events\/Search$/.exec(request.path);
    const set = options.sets.find((s) => s.Id === search?.[1]);
    if (request.method !== "POST" || !set) return { status: 404, json: { error: "not found" } };
    const filter = /arrivalTime GE (\S+) AND arrivalTime LE (\S+)/.exec(
      (JSON.parse(request.body || "{}") as { filter?: string }).filter ?? "",
    );
    if (!filter) return { status: 400, json: { error: "filter required" } };
    open += 1;
    most = Math.max(most, open);
    await new Promise((resolve) => setTimeout(resolve, options.searchDelayMs ?? 0));
    open -= 1;
    const [from, to] = [Date.parse(filter[1] as string), Date.parse(filter[2] as string)];
    const matching = set.events.filter(
      (e) => Date.parse(e.arrivalTime) >= from && Date.parse(e.arrivalTime) < to,
    );
    const limit = Number(request.query.limit ?? 1000);
    const offset = request.query.nextCursor === "start" ? 0 : Number(request.query.nextCursor);
    const next = offset + limit < matching.length ? String(offset + limit) : null;
    return { json: { events: matching.slice(offset, offset + limit), nextCursor: next } };
  });
  return Object.assign(server, { mostSearchesAtOnce: () => most });
}

/** `count` sets of `eventsPerSet` events each, one every `spacingMin` minutes from 00:01 on 2026-01-01. */
export function epmSets(count: number, eventsPerSet: number, spacingMin = 1): EpmSet[] {
  return Array.from({ length: count }, (_, s) => ({
    Id: `set-${s + 1}`,
    Name: `Set ${s + 1}`,
    events: Array.from({ length: eventsPerSet }, (_, e) => ({
      eventId: `set-${s + 1}-event-${e + 1}`,
      arrivalTime: new Date(Date.parse("2026-01-01T00:01:00Z") + e * spacingMin * 60_000).toISOString(),
    })),
  }));
}
