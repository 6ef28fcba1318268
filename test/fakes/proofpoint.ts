/**
 * Proofpoint TAP SIEM API (`GET /v2/siem/messages/delivered`, `/v2/siem/all`, …), as documented: Basic auth
 * (service principal and secret); `interval=<start>/<end>` ISO 8601, at least 30 s and at most 1 hour;
 * `format=json`; no paging. Body `{ queryEndTime, messagesDelivered: [...], ... }` (the `all` endpoint adds
 * `messagesBlocked`, `clicksPermitted`, `clicksBlocked`).
 */
import { basicCredentials, type FakeServer, startFakeServer } from "./server.ts";

export interface TapMessage {
  GUID: string;
  messageTime: string;
  sender: string;
  recipient: string[];
  subject: string;
}

const categories = {
  "/v2/siem/messages/delivered": ["messagesDelivered"],
  "/v2/siem/messages/blocked": ["messagesBlocked"],
  "/v2/siem/all": ["messagesDelivered", "messagesBlocked", "clicksPermitted", "clicksBlocked"],
} as const;

export async function startProofpointFake(options: {
  principal?: string;
  secret?: string;
  delivered?: TapMessage[];
  blocked?: TapMessage[];
}): Promise<FakeServer & { origin: string }> {
  const principal = options.principal ?? "test-service-principal-0000";
  const secret = options.secret ?? "test-password-proofpoint-0000";
  const data: Record<string, TapMessage[]> = {
    messagesDelivered: options.delivered ?? [],
    messagesBlocked: options.blocked ?? [],
    clicksPermitted: [],
    clicksBlocked: [],
  };
  return startFakeServer((request) => {
    const fields = categories[request.path as keyof typeof categories];
    if (!fields) return { status: 404, body: "Not Found" };
    const credentials = basicCredentials(request);
    if (credentials?.user !== principal || credentials.password !== secret) {
      return { status: 401, body: "The credentials are invalid", headers: { "content-type": "text/plain" } };
    }
    const [startText, endText] = (request.query.interval ?? "").split("/");
    const start = Date.parse(startText ?? "");
    const end = Date.parse(endText ?? "");
    if (Number.isNaN(start) || Number.isNaN(end) || end - start < 30_000 || end - start > 3_600_000) {
      return {
        status: 400,
        body: "The interval must be an ISO8601 interval between 30 seconds and 1 hour",
        headers: { "content-type": "text/plain" },
      };
    }
    const body: Record<string, unknown> = { queryEndTime: new Date(end).toISOString() };
    for (const field of fields) {
      body[field] = (data[field] ?? []).filter((m) => {
        const at = Date.parse(m.messageTime);
        return at >= start && at < end;
      });
    }
    return { json: body };
  });
}
