/**
 * Plays the Azure Functions Node.js worker for a deployed package, run with the package folder as cwd: it serves
 * `@azure/functions-core` to the package's own `@azure/functions` (the worker does the same), imports every file
 * `package.json#main` matches, and then invokes functions through the programming model the package registered,
 * the way the worker turns a host invocation into handler arguments and a response.
 * stdin: a JSON list of invocations `{ function, trigger }` (the trigger's RPC typed data, as the host sends it);
 * stdout: one JSON object with what was registered,
 * what failed to load, each invocation's response and log lines, and which build of each Azure SDK package loaded.
 * Plain JavaScript, so nothing of the test tooling (tsx, vitest) is loaded into the package's process.
 */
import { randomUUID } from "node:crypto";
import { globSync, readFileSync } from "node:fs";
import Module from "node:module";
import path from "node:path";
import { text } from "node:stream/consumers";
import { pathToFileURL } from "node:url";

const appDir = process.cwd();
const registered = new Map();
let programmingModel;
const systemLogs = [];

const coreApi = {
  setProgrammingModel: (model) => {
    programmingModel = model;
  },
  getProgrammingModel: () => programmingModel,
  registerFunction: (metadata, callback) => {
    registered.set(metadata.name, { metadata, callback });
    return { dispose: () => registered.delete(metadata.name) };
  },
  registerHook: () => ({ dispose: () => {} }),
  log: (level, category, message) => systemLogs.push({ level, category, message }),
};
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "@azure/functions-core" ? coreApi : load.call(this, request, ...rest);
};

// Which build of each Azure SDK package the app loads, `dist/<build>/` ("commonjs", "esm"), by import or require.
const azureBuilds = new Set();
Module.registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    const build = /\/node_modules\/(@azure\/[^/]+)\/dist\/([^/]+)\//.exec(resolved.url);
    if (build) azureBuilds.add(`${build[1]} ${build[2]}`);
    return resolved;
  },
});

const { main } = JSON.parse(readFileSync(path.join(appDir, "package.json"), "utf8"));
const entryPoints = globSync(main, { cwd: appDir }).sort();
const loadErrors = [];
for (const entryPoint of entryPoints) {
  try {
    await import(pathToFileURL(path.join(appDir, entryPoint)).href);
  } catch (error) {
    loadErrors.push({ entryPoint, error: String(error?.stack ?? error) });
  }
}

async function invoke({ function: name, trigger, triggerMetadata }) {
  const registration = registered.get(name);
  if (registration === undefined) return { function: name, error: "not registered" };
  // The library names bindings itself (type plus a hash); the host addresses the trigger by that name.
  const [triggerName] = Object.entries(registration.metadata.bindings).find(([, binding]) =>
    /trigger$/i.test(binding.type),
  );
  const inputData = [{ name: triggerName, data: trigger }];
  const logs = [];
  const model = programmingModel.getInvocationModel({
    invocationId: randomUUID(),
    metadata: registration.metadata,
    request: { inputData, triggerMetadata },
    log: (level, category, message) => logs.push({ level, category, message }),
  });
  try {
    const { context, inputs } = await model.getArguments();
    const result = await model.invokeFunction(context, inputs, registration.callback);
    const response = await model.getResponse(context, result);
    const body = response.returnValue?.http?.body;
    // An HTTP body comes back as bytes; JSON would spell a Uint8Array as an object of indexes.
    if (body?.bytes !== undefined)
      response.returnValue.http.body = { string: Buffer.from(body.bytes).toString() };
    return { function: name, response, logs };
  } catch (error) {
    return { function: name, error: String(error?.stack ?? error), logs };
  }
}

const invocations = JSON.parse(await text(process.stdin));
const results = [];
for (const invocation of invocations) results.push(await invoke(invocation));
process.stdout.write(
  `${JSON.stringify({
    node: process.versions.node,
    entryPoints,
    loadErrors,
    functions: [...registered.values()].map(({ metadata }) => metadata),
    results,
    systemLogs,
    azureBuilds: [...azureBuilds].sort(),
  })}\n`,
);
// Open sockets (the runtime's pooled agent, Azurite clients) would keep a real worker alive; this one is done.
process.exit(0);
