/**
 * The on-call status page: one self-contained HTML document (inline CSS, no scripts, no external assets, so it
 * renders behind any proxy and under a strict Content-Security-Policy). Every value is escaped.
 */
import { silentDropRule, type WatermarkStatus } from "../state/index.ts";
import type { StatusPage } from "./page.ts";
import type { ActivityLine, StatusLine } from "./view.ts";

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
<td>${statusBadge(line.status)}${line.activity.silentDrop === null ? "" : `<span class="badge silent" title="${escapeHtml(silentDropRule)}">Silent drop</span>`}</td>
<td><strong>${escapeHtml(line.connectorId)}</strong><div class="reason">${escapeHtml(line.statusReason)}</div>${line.activity.silentDrop === null ? "" : `<div class="reason silent">${escapeHtml(line.activity.silentDrop)}</div>`}</td>
<td class="num" title="${escapeHtml(line.lagMinutes === null ? "nothing committed yet" : `${line.lagMinutes} minutes`)}">${escapeHtml(formatLag(line.lagMinutes))}</td>
<td class="activity">${activityCell(line.activity)}</td>
<td>${escapeHtml(formatTime(line.committedThrough))}</td>
<td>${escapeHtml(formatTime(line.lastSuccessAt))}</td>
<td class="num">${line.consecutiveFailures}</td>
<td class="error">${lastError(line)}</td>
<td>${line.windowInFlight === null ? "—" : `${escapeHtml(line.windowInFlight)}<div class="reason">attempt ${line.windowAttempts}</div>`}</td>
</tr>`,
  );
  return `<table>
<thead><tr><th>Status</th><th>Connector</th><th>Lag</th><th>Last 14 days</th><th>Committed through</th><th>Last success</th><th>Failures</th><th>Last error</th><th>Window in flight</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
<p class="meta legend">Last 14 days: a bar per ${slotHours} hours (UTC; faint lines at midnight) of the events the sink accepted, grey where nothing ran, red where runs accepted nothing; the amber band below is the largest lag in those hours. Hover a bar for its numbers. ${escapeHtml(silentDropRule)}</p>`;
}

/**
 * Bars of 6 hours (night, morning, afternoon, evening), not 1: 56 per chart keeps 200 connectors to about
 * 11,000 bars, each with its own title, in a page of about 1.2 MB that a browser draws at once; the hourly
 * numbers are in the JSON and the CLI.
 */
const slotHours = 6;
const hourMs = 3_600_000;
/** The bar width is in the stylesheet: 11,000 fewer attributes. */
const bar = { step: 5, minHeight: 2 } as const;
const volumeHeight = 32;
const lagTop = volumeHeight + 4;
const lagHeight = 14;
/** The lag band's scale never shrinks below an hour, so a few minutes of normal lag stay a sliver. */
const lagScaleMinutes = 60;

export interface ActivitySlot {
  /** Start, in milliseconds since the epoch. */
  start: number;
  /** Summed over the slot's hours; null when nothing ran in any of them. */
  accepted: number | null;
  maxLagMinutes: number | null;
}

/** The hourly series in 6-hour slots aligned to UTC midnight, the last one holding the current hour. */
export function activitySlots(activity: ActivityLine): ActivitySlot[] {
  const from = Date.parse(activity.from);
  const hours = activity.accepted.length;
  const slotMs = slotHours * hourMs;
  const last = Math.floor((from + (hours - 1) * hourMs) / slotMs) * slotMs;
  return Array.from({ length: hours / slotHours }, (_, slot) => {
    const start = last - (hours / slotHours - 1 - slot) * slotMs;
    const first = (start - from) / hourMs;
    const pick = (values: readonly (number | null)[]) =>
      values.slice(Math.max(0, first), first + slotHours).filter((value) => value !== null);
    const accepted = pick(activity.accepted);
    const lags = pick(activity.maxLagMinutes);
    return {
      start,
      accepted: accepted.length === 0 ? null : accepted.reduce((sum, value) => sum + value, 0),
      maxLagMinutes: lags.length === 0 ? null : Math.max(...lags),
    };
  });
}

function activityCell(activity: ActivityLine): string {
  const slots = activitySlots(activity);
  const peak = Math.max(0, ...slots.map((slot) => slot.accepted ?? 0));
  const lagPeak = Math.max(0, ...slots.map((slot) => slot.maxLagMinutes ?? 0));
  const summary = [
    `peak ${peak.toLocaleString("en-US")} events / ${slotHours} h`,
    `lag up to ${formatLag(lagPeak)}`,
    `last data ${formatTime(activity.lastDataAt)}`,
  ].join(" · ");
  return `${activityChart(slots, peak, lagPeak)}<div class="reason">${escapeHtml(summary)}</div>`;
}

function activityChart(slots: readonly ActivitySlot[], peak: number, lagPeak: number): string {
  const width = slots.length * bar.step;
  const height = lagTop + lagHeight;
  const scaled = (value: number, max: number, span: number) =>
    Math.max(bar.minHeight, Math.round((value / max) * span));
  const bars = slots.map((slot, index) => {
    const barHeight = slot.accepted ? scaled(slot.accepted, peak, volumeHeight) : bar.minHeight;
    const kind = slot.accepted === null ? ` class="none"` : slot.accepted === 0 ? ` class="zero"` : "";
    return `<rect${kind} x="${index * bar.step}" y="${volumeHeight - barHeight}" height="${barHeight}"><title>${slotTitle(slot)}</title></rect>`;
  });
  // The lag band and the midnight lines are one path each: their numbers are in the bars' titles.
  const lag = slots
    .map((slot, index) => {
      if (!slot.maxLagMinutes) return "";
      const lagBar = scaled(slot.maxLagMinutes, Math.max(lagPeak, lagScaleMinutes), lagHeight);
      return `M${index * bar.step} ${height}v-${lagBar}h${bar.step - 1}v${lagBar}z`;
    })
    .join("");
  const midnights = slots
    .map((slot, index) =>
      slot.start % (24 * hourMs) === 0 && index > 0 ? `M${index * bar.step - 0.5} 0v${height}` : "",
    )
    .join("");
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="events accepted and lag per ${slotHours} hours over the last 14 days"><path class="day" d="${midnights}"/>${bars.join("")}<path class="lag" d="${lag}"/></svg>`;
}

function slotTitle(slot: ActivitySlot): string {
  const start = new Date(slot.start).toISOString();
  const endHour = new Date(slot.start + slotHours * hourMs).getUTCHours() || 24;
  const when = `${start.slice(0, 10)} ${start.slice(11, 13)}–${String(endHour).padStart(2, "0")} UTC`;
  if (slot.accepted === null) return `${when}: nothing ran`;
  const lag = slot.maxLagMinutes === null ? "" : `, lag up to ${formatLag(slot.maxLagMinutes)}`;
  return `${when}: ${slot.accepted.toLocaleString("en-US")} events accepted${lag}`;
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
.badge.silent{color:#fff;background:#6639ba;margin-top:4px;white-space:nowrap}
.reason.silent{color:#6639ba;font-weight:600}
td.activity{width:280px}
.chart{display:block;margin-bottom:2px}
.chart rect{fill:#0969da;width:4px}
.chart rect.zero{fill:#b42318}
.chart rect.none{fill:#d0d7de}
.chart .lag{fill:#f5b70a}
.chart .day{stroke:#d0d7de;stroke-width:1}
.legend{max-width:1100px}
`;
