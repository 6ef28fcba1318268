/**
 * A server-side-cursor alerts API (the PersistentToken shape of the CCP docs' example, `gta` +
 * `$.alerts[-1:]._id`): `GET /api/alerts?gta=<id>&limit=` returns alerts with `_id` greater than `gta`,
 * ascending, no time filter. New alerts can be added between windows.
 */
import { type FakeServer, startFakeServer } from "./server.ts";

export interface Alert {
  _id: string;
  name: string;
}

export async function startCursorAlertsFake(options: {
  token?: string;
  alerts?: Alert[];
}): Promise<FakeServer & { endpoint: string; add(...alerts: Alert[]): void }> {
  const token = options.token ?? "test-api-key-alerts-0000";
  const alerts = [...(options.alerts ?? [])];
  const server = await startFakeServer((request) => {
    if (request.path !== "/api/alerts") return { status: 404, json: {} };
    if (request.headers.authorization !== `Bearer ${token}`)
      return { status: 401, json: { error: "unauthorized" } };
    const gta = request.query.gta ?? "";
    const limit = Number(request.query.limit ?? 100);
    const newer = alerts.filter((a) => a._id > gta).sort((a, b) => a._id.localeCompare(b._id));
    return { json: { alerts: newer.slice(0, limit) } };
  });
  return { ...server, endpoint: `${server.origin}/api/alerts`, add: (...more) => alerts.push(...more) };
}

export function alerts(count: number, firstId = 1): Alert[] {
  return Array.from({ length: count }, (_, i) => ({
    _id: `a${String(firstId + i).padStart(6, "0")}`,
    name: `alert ${firstId + i}`,
  }));
}
