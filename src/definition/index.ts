/** The definition module's public surface: load definitions into `Connector`s and report what went wrong. */
export type { DefinitionWarning, Refusal, RefusalCode } from "./errors.ts";
export { DefinitionError, formatRefusal, formatWarning, refusalCodes } from "./errors.ts";
export { connectorJsonSchemaText } from "./json-schema.ts";
export { legacySettingNames } from "./legacy.ts";
export { runtimeTokens } from "./lint.ts";
export type { LoadOptions, LoadResult } from "./load.ts";
export { loadConnectors, loadDefinitionText } from "./load.ts";
export type { Connector, ConnectorProperties } from "./schema.ts";
export type { Env, SettingsFile } from "./settings.ts";
export { envVarName, readSettingsFile } from "./settings.ts";
