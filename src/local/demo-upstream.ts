/**
 * The demo's upstream: the Jira audit records fake (test/fakes/jira.ts) over HTTPS with a self-signed
 * certificate, so the shipped connector's `https://{{domain}}/…` endpoint is used unchanged. Audit records
 * trickle in at a steady pace of demo time: `addUntil(now)` creates every record due by `now`.
 */
import path from "node:path";
import { type JiraFake, type JiraRecord, startJiraFake } from "../../test/fakes/jira.ts";
import { loadOrCreateCertificate } from "./standin/credentials.ts";

export const demoJiraUser = "test-user@example.com";
export const demoJiraApiToken = "test-api-token-demo-0000";

const activities = [
  { summary: "User created", category: "user management" },
  { summary: "User added to group", category: "group management" },
  { summary: "Project permission scheme changed", category: "permissions" },
  { summary: "Workflow updated", category: "workflows" },
  { summary: "API token created", category: "user management" },
] as const;

export interface DemoUpstream {
  /** `host:port`, the connector's `{{domain}}`. */
  domain: string;
  /** The self-signed certificate's file: give it to the engine as UPSTREAM_CA_FILE. */
  caCertPath: string;
  /** Records created so far. */
  readonly count: number;
  /** Creates every record due at or before `now` (one every `everySeconds` of demo time). */
  addUntil(now: Date): void;
  close(): Promise<void>;
}

export async function startDemoUpstream(options: {
  /** Where the certificate is kept (reused by later runs). */
  dataDir: string;
  /** Demo time of the first record. */
  firstRecordAt: Date;
  everySeconds: number;
}): Promise<DemoUpstream> {
  const certificate = await loadOrCreateCertificate(path.join(options.dataDir, "upstream"));
  const fake: JiraFake = await startJiraFake({
    user: demoJiraUser,
    apiToken: demoJiraApiToken,
    tls: { key: certificate.keyPem, cert: certificate.certPem },
  });
  let next = options.firstRecordAt.getTime();
  let id = 0;
  return {
    domain: new URL(fake.origin).host,
    caCertPath: certificate.certPath,
    get count() {
      return id;
    },
    addUntil(now) {
      const due: JiraRecord[] = [];
      for (; next <= now.getTime(); next += options.everySeconds * 1000) {
        id += 1;
        const activity = activities[id % activities.length] ?? activities[0];
        due.push({
          id,
          summary: `${activity.summary} #${id}`,
          created: new Date(next).toISOString(),
          category: activity.category,
          eventSource: "Jira",
          remoteAddress: `203.0.113.${id % 250}`,
          authorAccountId: `demo-account-${id % 7}`,
        });
      }
      fake.add(...due);
    },
    close: () => fake.close(),
  };
}
