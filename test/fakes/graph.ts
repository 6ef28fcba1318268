/**
 * A Microsoft Graph-style collection (`GET /v1.0/auditLogs/signIns`): `$filter=createdDateTime ge A and
 * createdDateTime lt B`, `$top`; body `{ "@odata.context", value: [...], "@odata.nextLink" }` where the next
 * link is an absolute URL carrying an opaque `$skiptoken`. Bearer token.
 */
import { type FakeServer, startFakeServer } from "./server.ts";

export interface SignIn {
  id: string;
  createdDateTime: string;
  userPrincipalName: string;
}

export async function startGraphFake(options: {
  token?: string;
  signIns: SignIn[];
  /** Next links point to this origin instead (to test the same-origin rule). */
  nextLinkOrigin?: string;
}): Promise<FakeServer & { endpoint: string }> {
  const token = options.token ?? "test-token-graph-0000";
  const path = "/v1.0/auditLogs/signIns";
  const server = await startFakeServer((request) => {
    if (request.path !== path) return { status: 404, json: { error: { code: "ResourceNotFound" } } };
    if (request.headers.authorization !== `Bearer ${token}`) {
      return {
        status: 401,
        json: { error: { code: "InvalidAuthenticationToken", message: "Access token is empty." } },
      };
    }
    const filter = /createdDateTime ge (\S+) and createdDateTime lt (\S+)/.exec(request.query.$filter ?? "");
    if (!filter)
      return { status: 400, json: { error: { code: "BadRequest", message: "Invalid filter clause" } } };
    const from = Date.parse(filter[1] as string);
    const to = Date.parse(filter[2] as string);
    const top = Number(request.query.$top ?? 1000);
    const skip = request.query.$skiptoken
      ? Number(Buffer.from(request.query.$skiptoken, "base64url").toString())
      : 0;
    const matching = options.signIns.filter((s) => {
      const at = Date.parse(s.createdDateTime);
      return at >= from && at < to;
    });
    const body: Record<string, unknown> = {
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
      value: matching.slice(skip, skip + top),
    };
    if (skip + top < matching.length) {
      const next = new URL(`${path}?${request.rawQuery}`, options.nextLinkOrigin ?? server.origin);
      next.searchParams.set("$skiptoken", Buffer.from(String(skip + top)).toString("base64url"));
      body["@odata.nextLink"] = next.href;
    }
    return { json: body };
  });
  return { ...server, endpoint: `${server.origin}${path}` };
}
