/**
 * `@azure/identity`, loaded on first use: only runs in Azure (or against a real account) create a credential.
 * Local runs (Azurite's key, the stand-in's token) never do, and the package is about 4 MB of live heap, which
 * V8 lets grow about threefold before a full collection: most of what keeps a local run's peak RSS up.
 */
import { createRequire } from "node:module";

type AzureIdentity = typeof import("@azure/identity");

const require = createRequire(import.meta.url);
let loaded: AzureIdentity | undefined;

export function azureIdentity(): AzureIdentity {
  loaded ??= require("@azure/identity") as AzureIdentity;
  return loaded;
}
