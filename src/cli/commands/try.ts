/**
 * `ccp-poller try <file> [--connector id] [--from T --to T] [--pages N] [--curl] [--json]`: one window against
 * the real API with the settings and secrets of the environment / settings file, sending nothing to a sink or a
 * watermark. It prints every request (secrets masked, or as curl with `$CCP_…` references), the answers, the
 * paging, the events and the rows the DCR would get, then a verdict.
 *
 * The trace comes from the engine's own seam, `EngineDeps.createHttpClient` (and the auth client): the real
 * engine runs unchanged, wrapped clients only watch.
 */
import { performance } from "node:perf_hooks";
import { formatWarning } from "../../definition/errors.ts";
import { loadConnectors } from "../../definition/load.ts";
import type { Connector } from "../../definition/schema.ts";
import { envVarName } from "../../definition/settings.ts";
import { systemClock } from "../../engine/clock.ts";
import { connectorHttpOptions, createEngine } from "../../engine/engine.ts";
import { createHttpClient, HttpStatusError, serializeBody } from "../../engine/http.ts";
import { isSensitiveName, REDACTED, redact } from "../../engine/redact.ts";
import type { HttpClient, Logger, OutgoingRequest, Window } from "../../engine/types.ts";
import { planWindows } from "../../engine/windows.ts";
import { toRow } from "../../sink/rows.ts";
import type { CliCommand } from "../command.ts";
import type { CliIo } from "../io.ts";
import {
  commandEnv,
  exitCodes,
  guarded,
  parseTime,
  type SettingsOption,
  withSettingsOption,
} from "../shared.ts";

interface TryOptions extends SettingsOption {
  connector?: string;
  from?: string;
  to?: string;
  pages: string;
  curl?: boolean;
  json?: boolean;
}

interface Exchange {
  request: OutgoingRequest;
  status?: number;
  ms: number;
  bytes?: number;
  error?: string;
}

const SAMPLE = 3;
const TRUNCATE = 300;

/** Watches a client: every request it sends, with status, timing and size. */
function tracing(inner: HttpClient, exchanges: Exchange[]): HttpClient {
  return {
    async send(request, options) {
      const started = performance.now();
      try {
        const response = await inner.send(request, options);
        exchanges.push({
          request,
          status: response.status,
          ms: performance.now() - started,
          bytes: response.body.length,
        });
        return response;
      } catch (error) {
        const status = error instanceof HttpStatusError ? error.status : undefined;
        exchanges.push({
          request,
          ms: performance.now() - started,
          error: (error as Error).message,
          ...(status !== undefined ? { status } : {}),
        });
        throw error;
      }
    },
  };
}

export const tryCommand: CliCommand = {
  register(program, io, exit) {
    withSettingsOption(
      program
        .command("try")
        .description(
          "poll one window of a definition against the real API and show every request; sends nothing",
        )
        .argument("<file>", "definition file")
        .option("--connector <id>", "the connector, when the file has several")
        .option("--from <time>", "window start (ISO 8601; default: the latest complete window)")
        .option("--to <time>", "window end (ISO 8601)")
        .option("--pages <n>", "stop after this many pages", "5")
        .option("--curl", "show each request as a curl command, secrets as $CCP_… variables")
        .option("--json", "print the trace as JSON"),
    ).action((file: string, options: TryOptions) =>
      guarded(io, exit, () => tryDefinition(io, file, options)),
    );
  },
};

async function tryDefinition(io: CliIo, file: string, options: TryOptions): Promise<number> {
  const env = await commandEnv(io, options);
  const load = await loadConnectors([file], { env });
  for (const error of load.errors) io.stderr(error.message);
  if (load.errors.length > 0) return exitCodes.failed;
  const connector = load.connectors.find(
    (c) => options.connector === undefined || c.id === options.connector,
  );
  if (connector === undefined || (options.connector === undefined && load.connectors.length > 1)) {
    io.stderr(
      `Name one connector with --connector (loaded: ${load.connectors.map((c) => c.id).join(", ") || "none"}).`,
    );
    return exitCodes.failed;
  }
  const pages = Number(options.pages);
  const window = chooseWindow(connector, options);
  if (window === undefined || !Number.isInteger(pages) || pages < 1) {
    io.stderr(
      "--from and --to take ISO 8601 times, both or neither, from before to; --pages a whole number ≥ 1",
    );
    return exitCodes.usage;
  }

  const exchanges: Exchange[] = [];
  const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
  const engine = createEngine({
    clock: systemClock,
    http: tracing(createHttpClient({ clock: systemClock }), exchanges),
    logger: quiet,
    createHttpClient: (c) =>
      tracing(createHttpClient({ ...connectorHttpOptions(c), clock: systemClock }), exchanges),
  });
  const events: unknown[] = [];
  let ended = `no next page (${connector.properties.paging.pagingType})`;
  let failure: string | undefined;
  try {
    for await (const page of engine.pollWindow(connector, window, { maxPages: pages + 1 })) {
      events.push(...page.events);
      if (page.number >= pages) {
        ended = `stopped after ${pages} page(s) (--pages)`;
        break;
      }
    }
  } catch (error) {
    failure = (error as Error).message;
    ended = `failed: ${failure}`;
  }

  const secrets = connector.secrets;
  const variables = secretVariables(env, secrets);
  const outside = events.filter((event) => outsideWindow(event, window));
  const authFailed = exchanges.some((e) => e.status === 401 || e.status === 403);
  const verdict = {
    auth: !authFailed && !(failure !== undefined && exchanges.length === 0),
    paging: failure === undefined,
    eventsExtracted: events.length > 0,
    timeFilterRespected: outside.length === 0,
  };
  const warnings = load.warnings.map(formatWarning);
  const shown = exchanges.map((e) => ({
    method: e.request.method,
    url: redact(e.request.url.href, secrets),
    headers: Object.fromEntries(
      Object.entries(e.request.headers).map(([k, v]) => [
        k,
        isSensitiveName(k) ? REDACTED : redact(v, secrets),
      ]),
    ),
    body: redact(serializeBody(e.request.body)?.payload ?? "", secrets),
    ...(options.curl ? { curl: curlOf(e.request, secrets, variables, connector.id) } : {}),
    status: e.status ?? null,
    ms: Math.round(e.ms),
    bytes: e.bytes ?? null,
    ...(e.error !== undefined ? { error: redact(e.error, secrets) } : {}),
  }));
  const sample = events.slice(0, SAMPLE).map((event) => truncate(JSON.stringify(event)));
  const rows = events
    .slice(0, SAMPLE)
    .map((event) =>
      truncate(JSON.stringify(toRow(connector.id, event, connector.properties.addOnAttributes))),
    );

  if (options.json) {
    io.stdout(
      JSON.stringify(
        {
          connector: connector.id,
          window,
          requests: shown,
          windowEnded: redact(ended, secrets),
          events: events.length,
          sample,
          rows,
          outsideWindow: outside.length,
          verdict,
          warnings,
        },
        null,
        2,
      ),
    );
  } else {
    io.stdout(
      `${connector.id}: window ${window.start.toISOString()} → ${window.end.toISOString()} (nothing is sent to a sink or stored)`,
    );
    shown.forEach((e, i) => {
      io.stdout(`\n#${i + 1} ${e.curl ?? `${e.method} ${e.url}`}`);
      if (!options.curl) {
        for (const [k, v] of Object.entries(e.headers)) io.stdout(`   ${k}: ${v}`);
        if (e.body !== "") io.stdout(`   body: ${truncate(e.body)}`);
      }
      io.stdout(
        `   → ${e.status ?? "no answer"} in ${e.ms} ms${e.bytes !== null ? `, ${e.bytes} bytes` : ""}${e.error ? `: ${truncate(e.error)}` : ""}`,
      );
      const next = shown[i + 1];
      if (next !== undefined && next.url !== e.url)
        io.stdout(`   paging: next request ${queryChange(e.url, next.url)}`);
    });
    io.stdout(`\nWindow ended: ${redact(ended, secrets)}`);
    io.stdout(`Events extracted: ${events.length}`);
    for (const line of sample) io.stdout(`   ${line}`);
    io.stdout("Rows the DCR would receive:");
    for (const line of rows) io.stdout(`   ${line}`);
    if (outside.length > 0)
      io.stdout(
        `${outside.length} event(s) outside the window, e.g. ${truncate(JSON.stringify(outside[0]))}`,
      );
    io.stdout("\nVerdict:");
    const mark = (ok: boolean) => (ok ? "ok  " : "FAIL");
    io.stdout(`  ${mark(verdict.auth)} auth`);
    io.stdout(`  ${mark(verdict.paging)} paging`);
    io.stdout(`  ${verdict.eventsExtracted ? "ok  " : "none"} events extracted`);
    io.stdout(`  ${mark(verdict.timeFilterRespected)} time filter respected`);
    for (const warning of warnings) io.stdout(`  warning: ${warning}`);
  }
  return verdict.auth && verdict.paging && verdict.timeFilterRespected ? exitCodes.ok : exitCodes.failed;
}

function chooseWindow(connector: Connector, options: TryOptions): Window | undefined {
  if (options.from === undefined && options.to === undefined) {
    return planWindows(connector, undefined, { now: new Date() }).at(-1);
  }
  const start = options.from === undefined ? undefined : parseTime(options.from);
  const end = options.to === undefined ? undefined : parseTime(options.to);
  return start !== undefined && end !== undefined && start < end ? { start, end } : undefined;
}

/** The first field that reads as a time (`created`, `timestamp`, `eventTime`…) outside `[start, end)`. */
function outsideWindow(event: unknown, window: Window): boolean {
  if (typeof event !== "object" || event === null) return false;
  for (const [name, value] of Object.entries(event)) {
    if (
      !/time|date|created|timestamp/i.test(name) ||
      (typeof value !== "string" && typeof value !== "number")
    )
      continue;
    const at = typeof value === "number" ? (value > 1e11 ? value : value * 1000) : Date.parse(value);
    if (Number.isNaN(at)) continue;
    return at < window.start.getTime() || at >= window.end.getTime();
  }
  return false;
}

/** Environment variables holding each bound secret, so curl shows `$CCP_…` where the value was. */
function secretVariables(
  env: Readonly<Record<string, string | undefined>>,
  secrets: readonly string[],
): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && secrets.includes(value) && name.startsWith("CCP_")) names.set(value, name);
  }
  return names;
}

/** The exact request as curl, every secret (and every credential header) as a shell variable reference. */
function curlOf(
  request: OutgoingRequest,
  secrets: readonly string[],
  variables: Map<string, string>,
  id: string,
): string {
  const reference = (secret: string) => `\${${variables.get(secret) ?? envVarName(id, "SECRET")}}`;
  const quote = (text: string) => {
    let out = text.replace(/[\\"`$]/g, "\\$&");
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
      if (secret !== "") out = out.replaceAll(secret.replace(/[\\"`$]/g, "\\$&"), reference(secret));
    }
    return `"${out}"`;
  };
  const parts = [`curl -X ${request.method} ${quote(request.url.href)}`];
  for (const [name, value] of Object.entries(request.headers)) {
    const basic = /^Basic (.+)$/.exec(value);
    if (name === "authorization" && basic) {
      const [user, ...rest] = Buffer.from(basic[1] as string, "base64")
        .toString("utf8")
        .split(":");
      parts.push(`-u ${quote(`${user}:${rest.join(":")}`)}`);
    } else if (isSensitiveName(name) && !secrets.some((s) => s !== "" && value.includes(s))) {
      // A credential the run obtained (an access token): no variable holds it, so it is named for the header.
      parts.push(`-H "${name}: \${${envVarName(id, name)}}"`);
    } else {
      parts.push(`-H ${quote(`${name}: ${value}`)}`);
    }
  }
  const body = serializeBody(request.body);
  if (body !== undefined)
    parts.push(`-H ${quote(`content-type: ${body.contentType}`)} --data ${quote(body.payload)}`);
  return parts.join(" ");
}

function queryChange(from: string, to: string): string {
  const before = new URL(from).searchParams;
  const after = new URL(to).searchParams;
  const changed = [...after.entries()].filter(([k, v]) => before.get(k) !== v).map(([k, v]) => `${k}=${v}`);
  return changed.length > 0 ? changed.join("&") : to;
}

const truncate = (text: string): string => (text.length > TRUNCATE ? `${text.slice(0, TRUNCATE)}…` : text);
