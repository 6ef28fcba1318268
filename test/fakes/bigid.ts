/**
 * BigID DSPM (as the corpus's BigIDDSPMLogs_PollerConfig.json calls it): `GET /api/v1/refresh-access-token`
 * with `Authorization: <user token>` returns `{ systemToken }`, sent bare as `Authorization` on data calls.
 * `GET /api/v1/actionable-insights/all-cases?limit&offset` pages `{ data: { cases } }`;
 * `GET /api/v1/ds_connections/<name>` returns `{ ds_connection }`; `GET /api/v1/data-catalog/?filter=SYSTEM =
 * "<name>" AND policy IN ("<policy>")` returns `{ results }`, the catalog objects of that source and policy.
 */
import { type FakeServer, startFakeServer } from "./server.ts";

export interface BigIdCase {
  id: string;
  dataSourceName: string;
  policyName: string;
}

export const BIGID_USER_TOKEN = "test-user-token-bigid-0000";
const SYSTEM_TOKEN = "test-system-token-bigid-0000";

export async function startBigIdFake(options: {
  cases: BigIdCase[];
  /** Catalog objects per `<source>/<policy>`. */
  objects: Record<string, Record<string, unknown>[]>;
}): Promise<FakeServer> {
  return startFakeServer((request) => {
    if (request.path === "/api/v1/refresh-access-token") {
      return request.headers.authorization === BIGID_USER_TOKEN
        ? { json: { success: true, systemToken: SYSTEM_TOKEN } }
        : { status: 401, json: { message: "bad token" } };
    }
    if (request.headers.authorization !== SYSTEM_TOKEN)
      return { status: 401, json: { message: "unauthorized" } };
    if (request.path === "/api/v1/actionable-insights/all-cases") {
      const limit = Number(request.query.limit ?? 50);
      const offset = Number(request.query.offset ?? 0);
      return {
        json: {
          data: { cases: options.cases.slice(offset, offset + limit), totalCount: options.cases.length },
        },
      };
    }
    const ds = /^\/api\/v1\/ds_connections\/(.+)$/.exec(request.path);
    if (ds) {
      const name = decodeURIComponent(ds[1] as string);
      return { json: { ds_connection: { name, type: "rdb-mysql", owners: [`${name}-owner`] } } };
    }
    if (request.path === "/api/v1/data-catalog/") {
      const filter = /^SYSTEM = "(.*)" AND policy IN \("(.*)"\)$/.exec(request.query.filter ?? "");
      if (!filter) return { status: 400, json: { message: `bad filter ${request.query.filter}` } };
      return { json: { results: options.objects[`${filter[1]}/${filter[2]}`] ?? [], totalRowsCounter: 0 } };
    }
    return { status: 404, json: { message: "not found" } };
  });
}
