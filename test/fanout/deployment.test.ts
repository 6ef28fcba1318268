/**
 * What fan-out needs from the deployment, checked against the code: the queue (and its poison queue) in
 * Bicep under the name the app settings default to, the Queue Data Contributor role for the app's identity,
 * the POLL_MODE and maximumInstanceCount parameters wired through, and host.json's queue settings in the
 * shape the worker reads and the message encoding the planner writes. Each check is also fed a broken input.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readSetting } from "../../src/config/app-settings.ts";
import { encodeWorkMessage, parseWorkMessage } from "../../src/fanout/queue.ts";
import { readHostQueueSettings, readPollMode } from "../../src/fanout/runtime.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const read = (...parts: string[]) => readFileSync(path.join(repoRoot, ...parts), "utf8");
const queueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";

function checkFanoutInfra(files: { main: string; storage: string; functionApp: string }): string[] {
  const problems: string[] = [];
  const queueName = readSetting({}, "FANOUT_QUEUE_NAME");
  if (!files.main.includes(`var workQueueName = '${queueName}'`)) {
    problems.push(`main.bicep: workQueueName must be '${queueName}', the FANOUT_QUEUE_NAME default`);
  }
  for (const name of ["workQueueName", `'\${workQueueName}-poison'`]) {
    if (
      !new RegExp(
        `queueServices/queues@[^']+' = \\{\\s*parent: queueService\\s*name: ${escapeRegExp(name)}\\s`,
      ).test(files.storage)
    ) {
      problems.push(`storage.bicep: no queue named ${name}`);
    }
  }
  const roles = /for roleId in \[([^\]]*)\]/.exec(files.storage)?.[1] ?? "";
  const roleVar = new RegExp(`var (\\w+) = '${queueDataContributor}'`).exec(files.storage)?.[1];
  if (roleVar === undefined || !roles.includes(roleVar)) {
    problems.push("storage.bicep: the app identity lacks Storage Queue Data Contributor");
  }
  for (const [setting, value] of [
    ["POLL_MODE", "pollMode"],
    ["FANOUT_QUEUE_NAME", "workQueueName"],
    ["AzureWebJobsStorage__queueServiceUri", "storageQueueEndpoint"],
  ]) {
    if (!files.functionApp.includes(`${setting}: ${value}`))
      problems.push(`function-app.bicep: ${setting} is not ${value}`);
  }
  if (!files.functionApp.includes("maximumInstanceCount: maximumInstanceCount")) {
    problems.push("function-app.bicep: maximumInstanceCount is not the parameter");
  }
  const allowed = /@allowed\(\[([^\]]*)\]\)\s*@description\([^)]*\)\s*param pollMode/.exec(files.main)?.[1];
  const modes = [...(allowed ?? "").matchAll(/'([^']+)'/g)].map((m) => m[1] ?? "");
  for (const mode of modes) {
    try {
      readPollMode({ POLL_MODE: mode });
    } catch {
      problems.push(`main.bicep: pollMode allows '${mode}', which the app refuses`);
    }
  }
  if (modes.length === 0) problems.push("main.bicep: no pollMode parameter with @allowed values");
  return problems;
}

function escapeRegExp(text: string): string {
  return text.replace(/[$.*+?()[\]{}|\\]/g, "\\$&");
}

describe("fan-out deployment", () => {
  const files = {
    main: read("infra/main.bicep"),
    storage: read("infra/modules/storage.bicep"),
    functionApp: read("infra/modules/function-app.bicep"),
  };

  it("infra declares the work queue and its poison queue, the queue role, and wires POLL_MODE and the instance limit", () => {
    expect(checkFanoutInfra(files)).toEqual([]);
    const withoutRole = files.storage.replace(/, storageQueueDataContributor\]/, "]");
    expect(checkFanoutInfra({ ...files, storage: withoutRole })).toEqual([
      "storage.bicep: the app identity lacks Storage Queue Data Contributor",
    ]);
    const fixedCount = files.functionApp.replace(
      "maximumInstanceCount: maximumInstanceCount",
      "maximumInstanceCount: 40",
    );
    expect(checkFanoutInfra({ ...files, functionApp: fixedCount })).toEqual([
      "function-app.bicep: maximumInstanceCount is not the parameter",
    ]);
    const typo = files.main.replace("['inline', 'fanout']", "['inline', 'fan-out']");
    expect(checkFanoutInfra({ ...files, main: typo })).toEqual([
      "main.bicep: pollMode allows 'fan-out', which the app refuses",
    ]);
  });

  it("host.json gives the queue trigger its retry limit and back-off, and decodes what the planner encodes", () => {
    const host = JSON.parse(read("host.json")) as { extensions: { queues: { messageEncoding: string } } };
    expect(readHostQueueSettings(path.join(repoRoot, "host.json"))).toEqual({
      maxDequeueCount: 5,
      visibilityTimeoutSeconds: 30,
    });
    expect(host.extensions.queues.messageEncoding).toBe("base64");
    const message = {
      connectorId: "a",
      rangeKey: "a~1",
      mode: "parallel",
      start: "2026-01-01T00:00:00Z",
      end: "2026-01-01T00:15:00Z",
    } as const;
    const decoded = Buffer.from(encodeWorkMessage(message), "base64").toString("utf8");
    expect(parseWorkMessage(JSON.parse(decoded))).toEqual(message);
    expect(() => parseWorkMessage({ ...message, mode: "both", start: "yesterday" })).toThrow(
      'Work message: $.mode must be "serial" or "parallel"; $.start must be an ISO time.',
    );
  });

  it("the work function is bound to FANOUT_QUEUE_NAME on the host's own storage connection", () => {
    const work = read("src/functions/work.ts");
    expect(work).toMatch(
      /app\.storageQueue\("work", \{\s*queueName: "%FANOUT_QUEUE_NAME%",\s*connection: "AzureWebJobsStorage"/,
    );
  });
});
