/** Content negotiation for the status endpoint: JSON unless a browser asks for HTML. */
import { renderStatusHtml, renderUnavailableHtml, statusPageCsp } from "./html.ts";
import type { StatusPage } from "./page.ts";

export interface StatusResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * `?format=html|json` wins; otherwise HTML only when Accept names text/html before application/json (what
 * browsers send), so curl, scripts and monitors get JSON by default.
 */
export function wantsHtml(accept: string | null, format: string | null): boolean {
  if (format === "html") return true;
  if (format === "json") return false;
  const html = accept?.indexOf("text/html") ?? -1;
  const json = accept?.indexOf("application/json") ?? -1;
  return html >= 0 && (json < 0 || html < json);
}

export function statusResponse(page: StatusPage, html: boolean): StatusResponse {
  return html
    ? respond(200, "text/html; charset=utf-8", renderStatusHtml(page))
    : respond(200, "application/json; charset=utf-8", `${JSON.stringify(page, null, 2)}\n`);
}

/** When the rows cannot be read (storage down, a bad setting), say why instead of the host's bare 500. */
export function statusUnavailable(error: unknown, html: boolean): StatusResponse {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (!html)
    return respond(503, "application/json; charset=utf-8", `${JSON.stringify({ error: message })}\n`);
  return respond(503, "text/html; charset=utf-8", renderUnavailableHtml(message));
}

function respond(status: number, contentType: string, body: string): StatusResponse {
  return {
    status,
    headers: {
      "content-type": contentType,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...(contentType.startsWith("text/html") ? { "content-security-policy": statusPageCsp } : {}),
    },
    body,
  };
}
