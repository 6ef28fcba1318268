/** GET /api/status for the on-call: JSON by default, an HTML page for a browser. Function key required. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { readSetting } from "../config/app-settings.ts";
import { buildStatusPage } from "../status/page.ts";
import { statusResponse, statusUnavailable, wantsHtml } from "../status/response.ts";
import { withInvocationLog, workerRuntime } from "./support/worker-runtime.ts";

export async function statusHttp(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const html = wantsHtml(request.headers.get("accept"), request.query.get("format"));
  return withInvocationLog(context, async () => {
    try {
      const { store, deps, load } = await workerRuntime();
      const rows = await store.list();
      const stateTable = readSetting(process.env, "STATE_TABLE_NAME") ?? "";
      return statusResponse(buildStatusPage({ rows, now: deps.clock.now(), load, stateTable }), html);
    } catch (error) {
      context.error(
        JSON.stringify({ level: "error", message: "status unavailable", lastError: String(error) }),
      );
      return statusUnavailable(error, html);
    }
  });
}

app.http("status", { methods: ["GET"], authLevel: "function", route: "status", handler: statusHttp });
