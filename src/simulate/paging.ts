/**
 * The simulated API's paging (reference §4), per declared `pagingType`: where it reads the position of a
 * request (token, link, offset, page number, with the declared names and placement) and how it tells the
 * client about the next page (token in the body or a header, Link header, flags and counts).
 *
 * Positions are indexes into the connector's time-ordered event list, so a token means "events from here on"
 * and a persistent token carries over to the next window as a real server-side cursor would.
 */
import type { PagingConfig } from "../definition/schema.ts";
import { accepted, bodyField, type Call, param, reject, type Verdict } from "./call.ts";
import { parsePath, placeValue } from "./formats.ts";

/** Token, link and page-number APIs serve at most this many events a page, so every window takes several. */
export const SERVER_PAGE_CAP = 4;

export interface PagePosition {
  /** Only events at this index or later (a token or link cursor). */
  cursor: number;
  /** Events of the selection to skip (offset and page-number paging). */
  skip: number;
  /** Events this page may hold. */
  size: number;
  /** 1-based page number the request asked for (page-number paging), for the echoed counts. */
  pageNumber: number;
}

export interface PageOutcome {
  call: Call;
  position: PagePosition;
  /** Global index of each event on the page. */
  indexes: readonly number[];
  /** Events of the selection after this page. */
  remaining: number;
  /** Events of the whole selection (for total counts). */
  total: number;
}

export interface SimulatedPaging {
  /** Request parameter (query or body) and header names that belong to paging. */
  names: string[];
  /** Body JSONPaths (`$.variables.after`) paging writes into. */
  bodyPaths: string[];
  read(call: Call): PagePosition | Extract<Verdict, { ok: false }>;
  /** Adds the next-page signal to the document and headers. */
  decorate(outcome: PageOutcome, document: unknown, headers: Record<string, string>): unknown;
}

const tokenOf = (index: number) => `sim.${index}`;
const indexOf = (token: string | undefined): number | undefined => {
  const match = /^sim\.(\d+)$/.exec(token ?? "");
  return match ? Number(match[1]) : undefined;
};

/**
 * `declared`: the request's own parameters; a token parameter declared there holds the value a cursor API is
 * first called with (Vectra's starting checkpoint), which means "from the beginning".
 */
export function simulatePaging(
  paging: PagingConfig,
  declared: Readonly<Record<string, unknown>> = {},
): SimulatedPaging {
  const sizeParam = paging.pageSizeParameterName;
  const names = sizeParam ? [sizeParam] : [];
  const requestedSize = (call: Call): number | undefined => {
    const value = sizeParam ? placedParam(call, sizeParam, paging.pagingInfoPlacement) : undefined;
    return value === undefined ? paging.pageSize : Number(value);
  };
  const checkSize = (call: Call): Verdict => {
    if (sizeParam === undefined || paging.pageSize === undefined) return accepted;
    const value = placedParam(call, sizeParam, paging.pagingInfoPlacement);
    return value === String(paging.pageSize)
      ? accepted
      : reject(
          400,
          "paging.pageSizeParameterName",
          `expected ${sizeParam}=${paging.pageSize} (${paging.pagingInfoPlacement}), got ${value ?? "nothing"}`,
        );
  };
  const capped = (call: Call) => Math.min(requestedSize(call) ?? SERVER_PAGE_CAP, SERVER_PAGE_CAP);

  switch (paging.pagingType) {
    case "None":
      return {
        names,
        bodyPaths: [],
        read: () => ({ cursor: 0, skip: 0, size: Number.POSITIVE_INFINITY, pageNumber: 1 }),
        decorate: (_outcome, document) => document,
      };
    case "NextPageToken":
    case "PersistentToken": {
      const persistent = paging.pagingType === "PersistentToken";
      const paraName = paging.nextPageParaName;
      const bodyPath = paraName?.startsWith("$") ? paraName : undefined;
      const lastEventField = lastEventFieldOf(paging.nextPageTokenJsonPath);
      return {
        names: [
          ...names,
          ...(paraName && !bodyPath ? [paraName] : []),
          ...(paging.nextPageRequestHeader ? [paging.nextPageRequestHeader] : []),
        ],
        bodyPaths: bodyPath ? [bodyPath] : [],
        read(call) {
          const size = checkSize(call);
          if (size.ok === false) return size;
          const fromParam = bodyPath
            ? bodyAt(call, bodyPath)
            : paraName
              ? placedParam(call, paraName, paging.pagingInfoPlacement)
              : undefined;
          const fromHeader = paging.nextPageRequestHeader
            ? call.headers[paging.nextPageRequestHeader.toLowerCase()]
            : undefined;
          const token = fromParam ?? fromHeader;
          const initial = paraName !== undefined && token === String(declared[paraName]);
          const cursor = token === undefined || initial ? 0 : indexOf(token);
          if (cursor === undefined) {
            return reject(
              400,
              "paging.nextPageParaName",
              `the next-page token ${JSON.stringify(token)} is not one this API issued`,
            );
          }
          return { cursor, skip: 0, size: capped(call), pageNumber: 1 };
        },
        decorate(outcome, document, headers) {
          const last = outcome.indexes.at(-1);
          const more = outcome.remaining > 0;
          // A persistent token names the position after every page with events, so the next window resumes
          // there; a page with nothing new carries no token (§4.2: a missing token ends the window).
          const next = more || (persistent && last !== undefined) ? tokenOf((last ?? 0) + 1) : undefined;
          let doc = document;
          if (next !== undefined && lastEventField === undefined) {
            if (paging.nextPageTokenJsonPath)
              doc = placeValue(doc, paging.nextPageTokenJsonPath, next).document;
            else if (paging.nextPageTokenResponseHeader)
              headers[paging.nextPageTokenResponseHeader.toLowerCase()] = next;
          }
          if (paging.hasNextFlagJsonPath) doc = placeValue(doc, paging.hasNextFlagJsonPath, more).document;
          return doc;
        },
      };
    }
    case "LinkHeader":
    case "PersistentLinkHeader": {
      const rel = paging.linkHeaderRelLinkName.replace(/^rel=/, "").replace(/"/g, "");
      const bodyPath = paging.linkHeaderTokenJsonPath?.startsWith("$")
        ? paging.linkHeaderTokenJsonPath
        : undefined;
      return {
        names: [...names, "sim_cursor"],
        bodyPaths: [],
        read(call) {
          const size = checkSize(call);
          if (size.ok === false) return size;
          const cursor = Number(call.url.searchParams.get("sim_cursor") ?? 0);
          return { cursor, skip: 0, size: capped(call), pageNumber: 1 };
        },
        decorate(outcome, document, headers) {
          const last = outcome.indexes.at(-1);
          if (outcome.remaining === 0 || last === undefined) return document;
          const next = new URL(outcome.call.url);
          next.searchParams.set("sim_cursor", String(last + 1));
          if (bodyPath) return placeValue(document, bodyPath, next.href).document;
          headers.link = `<${next.href}>; rel="${rel}"`;
          return document;
        },
      };
    }
    case "Offset":
      return {
        names: [...names, paging.offsetParaName],
        bodyPaths: [],
        read(call) {
          const size = checkSize(call);
          if (size.ok === false) return size;
          const text = placedParam(call, paging.offsetParaName, paging.pagingInfoPlacement) ?? "0";
          if (!/^\d+$/.test(text))
            return reject(400, "paging.offsetParaName", `${paging.offsetParaName}=${text} is not an offset`);
          // §4.2: an offset API fills every page but the last, so the client can stop at a short page.
          return {
            cursor: 0,
            skip: Number(text),
            size: requestedSize(call) ?? SERVER_PAGE_CAP,
            pageNumber: 1,
          };
        },
        decorate: (_outcome, document) => document,
      };
    case "CountBasedPaging": {
      const base = paging.zeroBasedIndexing ? 0 : 1;
      return {
        names: [...names, paging.pageNumberParaName],
        bodyPaths: [],
        read(call) {
          const size = checkSize(call);
          if (size.ok === false) return size;
          const text =
            placedParam(call, paging.pageNumberParaName, paging.pagingInfoPlacement) ?? String(base);
          const number = Number(text) - base + 1;
          if (!Number.isInteger(number) || number < 1) {
            return reject(
              400,
              "paging.pageNumberParaName",
              `${paging.pageNumberParaName}=${text} is not a page number (zeroBasedIndexing ${paging.zeroBasedIndexing})`,
            );
          }
          const pageSize = requestedSize(call) ?? SERVER_PAGE_CAP;
          return { cursor: 0, skip: (number - 1) * pageSize, size: pageSize, pageNumber: number };
        },
        decorate(outcome, document) {
          let doc = document;
          const pages = Math.ceil(outcome.total / Math.max(1, outcome.position.size));
          if (paging.hasNextFlagJsonPath)
            doc = placeValue(doc, paging.hasNextFlagJsonPath, outcome.remaining > 0).document;
          if (paging.totalResultsJsonPath)
            doc = placeValue(doc, paging.totalResultsJsonPath, outcome.total).document;
          if (paging.pageCountJsonPath) doc = placeValue(doc, paging.pageCountJsonPath, pages).document;
          if (paging.pageNumberJsonPath)
            doc = placeValue(doc, paging.pageNumberJsonPath, outcome.position.pageNumber - 1 + base).document;
          return doc;
        },
      };
    }
    case "NextPageUrl":
      throw new Error("NextPageUrl is refused by prepare.ts before a paging simulation is built");
  }
}

/**
 * `$[-1:].id` style token paths (the token is a field of the page's last event): the field name, which the
 * response builder fills on every event so the last one carries the position after the page.
 */
export function lastEventFieldOf(path: string | undefined): string | undefined {
  const segments = path === undefined ? undefined : parsePath(path);
  const lastAt = segments?.findIndex((segment) => segment.kind === "last") ?? -1;
  const field = segments?.[lastAt + 1];
  return lastAt >= 0 && field?.kind === "name" && segments?.length === lastAt + 2 ? field.name : undefined;
}

/** The token of an event at `index` for `$[-1:].field` paths: the position after it. */
export const eventToken = (index: number): string => tokenOf(index + 1);

function placedParam(
  call: Call,
  name: string,
  placement: PagingConfig["pagingInfoPlacement"],
): string | undefined {
  return placement === "RequestBody" ? bodyField(call, name) : param(call, name);
}

function bodyAt(call: Call, path: string): string | undefined {
  let value: unknown = call.body;
  for (const segment of parsePath(path) ?? []) {
    if (segment.kind !== "name" || typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment.name];
  }
  return value === undefined || value === null ? undefined : String(value);
}
