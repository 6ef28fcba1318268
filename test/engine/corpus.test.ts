/**
 * Every real definition in the shared corpus that loads must build its first request for a window:
 * runtime tokens, templates and paging settings as Microsoft ships them. Endpoints are left unbound by a
 * structure-only load, so they are replaced by a stand-in URL; everything else is as written.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConnectors } from "../../src/definition/load.ts";
import { buildRequest } from "../../src/engine/request.ts";
import { pagingStrategies } from "../../src/paging/index.ts";
import type { PagingStrategy } from "../../src/paging/types.ts";
import { windowOf } from "./connector.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const corpus = path.join(path.resolve(repoRoot, "../shared"), "ccp-corpus");
const present = existsSync(corpus);
if (!present) console.warn(`skipping corpus request tests: ${corpus} is absent`);

describe.skipIf(!present)("corpus definitions build their first request", () => {
  it("every loaded poller builds one, except the Zoom typo and Prisma Cloud's paging", async () => {
    const files = readdirSync(corpus)
      .filter((f) => f.endsWith(".json"))
      .map((f) => path.join(corpus, f));
    const { connectors } = await loadConnectors(files, { env: {}, unbound: "keep" });
    expect(connectors.length).toBeGreaterThan(100);

    const window = windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z");
    const failures: string[] = [];
    for (const connector of connectors) {
      const request = connector.properties.request;
      if (!/^https?:\/\//.test(request.apiEndpoint)) request.apiEndpoint = "https://api.example.test/unbound";
      try {
        const base = buildRequest(connector, {
          window,
          templateVariables: { _APIKeyName: "key", _APIKey: "test-api-key-corpus" },
        });
        const strategy = pagingStrategies[connector.properties.paging.pagingType] as PagingStrategy;
        strategy
          .start(connector.properties.paging, { request: base, allowedOrigins: [base.url.origin] })
          .first();
      } catch (error) {
        failures.push(`${path.basename(connector.source.file)} ${connector.id}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([
      // Prisma Cloud CSPM (its Basic login now loads) writes NextPageUrl's fields (nextPageUrl and a template
      // with a bare `pageToken`) under pagingType NextPageToken, so nothing says where the token goes.
      expect.stringMatching(
        /^PaloAltoPrismaCloud__.*PaloAltoPrismaCloudAlert: NextPageToken paging needs paging\.nextPageParaName or paging\.nextPageRequestHeader/,
      ),
      expect.stringMatching(
        /^ZoomReports__ZoomReportsCCP__ZOOMREPORTLOG_PollingConfig\.json ZoomTelephone: .*request\.queryParameters\.to uses the unknown runtime token \{_QueryWindowEnday\}/,
      ),
    ]);
  });
});
