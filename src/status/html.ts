/**
 * The on-call status page: one self-contained HTML document (inline CSS, no scripts, no external assets, so it
 * renders behind any proxy and under a strict Content-Security-Policy). Every value is escaped.
 */
import type { WatermarkStatus } from "../state/index.ts";
import type { StatusPage } from "./page.ts";
import type { StatusLine } from "./view.ts";

/** Sent with the page: nothing may load from anywhere, only the inline stylesheet applies. */
export const statusPageCsp =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const statusColours: Record<WatermarkStatus, { fg: string; bg: string }> = {
  Failing: { fg: "#ffffff", bg: "#b42318" },
  Lagging: { fg: "#3b2a00", bg: "#f5b70a" },
  Healthy: { fg: "#ffffff", bg: "#18794e" },
  Disabled: { fg: "#ffffff", bg: "#6b7280" },
};

export function renderStatusHtml(page: StatusPage): string {
  const counts = page.connectors.reduce<Record<string, number>>((acc, line) => {
    acc[line.status] = (acc[line.status] ?? 0) + 1;
    return acc;
  }, {});
  const summary = Object.entries(counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(", ");
  const worst = page.connectors[0]?.status;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>${escapeHtml(worst === undefined ? "ccp-poller status" : `${worst} · ccp-poller status`)}</title>
<style>${stylesheet}</style>
</head>
<body>
<header>
<h1>ccp-poller status</h1>
<p class="meta">${escapeHtml(summary || "no connectors")} · generated ${escapeHtml(formatTime(page.generatedAt))} · table ${escapeHtml(page.stateTable)} · refreshes every minute</p>
</header>
<main>
${page.connectors.length === 0 ? emptyState(page) : linesTable(page.connectors)}
${listSection("Loaded but not polled yet", page.notPolledYet, "These connectors have no watermark row: the timer has not reached them yet.")}
${listSection("Definitions not loaded", page.definitionProblems, "Never polled until fixed; the timer logs the same messages every run.")}
</main>
</body>
</html>
`;
}

export function renderUnavailableHtml(message: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ccp-poller status unavailable</title><style>${stylesheet}</style></head>
<body><header><h1>ccp-poller status unavailable</h1></header><main><section><p>${escapeHtml(message)}</p></section></main></body>
</html>
`;
}

function linesTable(lines: readonly StatusLine[]): string {
  const rows = lines.map(
    (
      line,
    ) => `<tr class="line" data-connector="${escapeHtml(line.connectorId)}" data-status="${escapeHtml(line.status)}">
<td>${statusBadge(line.status)}</td>
<td><strong>${escapeHtml(line.connectorId)}</strong><div class="reason">${escapeHtml(line.statusReason)}</div></td>
<td class="num" title="${escapeHtml(line.lagMinutes === null ? "nothing committed yet" : `${line.lagMinutes} minutes`)}">${escapeHtml(formatLag(line.lagMinutes))}</td>
<td>${escapeHtml(formatTime(line.committedThrough))}</td>
<td>${escapeHtml(formatTime(line.lastSuccessAt))}</td>
<td class="num">${line.consecutiveFailures}</td>
<td class="error">${lastError(line)}</td>
<td>${line.windowInFlight === null ? "—" : `${escapeHtml(line.windowInFlight)}<div class="reason">attempt ${line.windowAttempts}</div>`}</td>
</tr>`,
  );
  return `<table>
<thead><tr><th>Status</th><th>Connector</th><th>Lag</th><th>Committed through</th><th>Last success</th><th>Failures</th><th>Last error</th><th>Window in flight</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>`;
}

function statusBadge(status: WatermarkStatus): string {
  const { fg, bg } = statusColours[status];
  return `<span class="badge" style="color:${fg};background:${bg}">${escapeHtml(status)}</span>`;
}

function lastError(line: StatusLine): string {
  if (line.lastError === "") return "—";
  const when =
    line.lastErrorAt === null ? "" : `<div class="reason">${escapeHtml(formatTime(line.lastErrorAt))}</div>`;
  const kind = line.lastErrorKind === "" ? "" : `<code>${escapeHtml(line.lastErrorKind)}</code> `;
  return `${kind}${escapeHtml(line.lastError)}${when}`;
}

function emptyState(page: StatusPage): string {
  return `<section class="empty">
<h2>No connector has a watermark row yet</h2>
<p>Nothing in table <code>${escapeHtml(page.stateTable)}</code>. Check, in order:</p>
<ol>
<li>The <code>poll</code> timer runs: Application Insights traces with <code>"message":"run finished"</code>, or the Functions host log (<code>POLL_SCHEDULE</code> must be set).</li>
<li>The definitions load: <code>CONNECTORS_DIR</code> holds them and every <code>CCP_&lt;CONNECTOR&gt;_&lt;NAME&gt;</code> value they need is set (problems are listed below).</li>
<li>This app and the timer use the same storage: <code>AzureWebJobsStorage</code> and <code>STATE_TABLE_NAME</code>.</li>
</ol>
</section>`;
}

function listSection(title: string, items: readonly string[], note: string): string {
  if (items.length === 0) return "";
  return `<section class="list">
<h2>${escapeHtml(title)} (${items.length})</h2>
<p class="meta">${escapeHtml(note)}</p>
<ul>${items.map((item) => `<li><code>${escapeHtml(item)}</code></li>`).join("")}</ul>
</section>`;
}

/** Minutes as an on-call reads them: "42 min", "5 h 3 min", "3 d 4 h"; a dash before the first commit. */
export function formatLag(minutes: number | null): string {
  if (minutes === null) return "—";
  if (minutes < 120) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${Math.floor(minutes / 1440)} d ${Math.floor((minutes % 1440) / 60)} h`;
}

function formatTime(iso: string | null): string {
  return iso === null ? "never" : iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char] ?? char,
  );
}

const stylesheet = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{padding:16px 24px;background:#fff;border-bottom:1px solid #d0d7de}
h1{font-size:20px;margin:0}
h2{font-size:16px;margin:0 0 8px}
main{padding:16px 24px}
.meta{color:#57606a;margin:4px 0 0}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}
th,td{text-align:left;vertical-align:top;padding:8px 10px;border-bottom:1px solid #d0d7de}
th{background:#f6f8fa;font-weight:600;white-space:nowrap}
td.num{text-align:right;white-space:nowrap}
td.error{max-width:420px;overflow-wrap:anywhere}
tr[data-status="Failing"] td{background:#fff4f2}
tr[data-status="Lagging"] td{background:#fffbeb}
.reason{color:#57606a;font-size:12px}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
section{background:#fff;border:1px solid #d0d7de;padding:12px 16px;margin-top:16px}
`;
