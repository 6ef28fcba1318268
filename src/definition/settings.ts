/**
 * Per-connector values for `{{placeholders}}` and ARM `parameters(...)`: from the environment
 * (`CCP_<CONNECTOR_ID>_<NAME>`) and, for non-secrets only, from a JSON settings file
 * `{ "<connectorId>": { "<name>": value } }`.
 */
import { readFile } from "node:fs/promises";
import { DefinitionError, describeValue } from "./errors.ts";
import { isRecord } from "./keys.ts";
import { parseDefinitionJson } from "./parse.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** Settings-file content: connector id → setting name → value. */
export type SettingsFile = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** Upper-cases and turns every non-alphanumeric character into `_`: `jira-audit` → `JIRA_AUDIT`. */
export function settingToken(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

export function envVarName(connectorId: string, name: string): string {
  return `CCP_${settingToken(connectorId)}_${settingToken(name)}`;
}

export type SettingLookup =
  | { found: true; value: unknown; from: "environment" | "settings file" }
  | { found: false }
  | { found: "secret-in-file" };

export class ConnectorSettings {
  private readonly fileValues: ReadonlyMap<string, unknown>;

  constructor(
    readonly connectorId: string,
    private readonly env: Env,
    fileEntry: Readonly<Record<string, unknown>> | undefined,
    readonly settingsFile: string | undefined,
  ) {
    this.fileValues = new Map(Object.entries(fileEntry ?? {}).map(([k, v]) => [settingToken(k), v]));
  }

  lookup(name: string, isSecret: boolean): SettingLookup {
    const fromEnv = this.env[envVarName(this.connectorId, name)];
    if (fromEnv !== undefined && fromEnv !== "") return { found: true, value: fromEnv, from: "environment" };
    const token = settingToken(name);
    if (!this.fileValues.has(token)) return { found: false };
    if (isSecret) return { found: "secret-in-file" };
    return { found: true, value: this.fileValues.get(token), from: "settings file" };
  }

  /** Where a value can be given, for "expected …" messages. */
  where(name: string, isSecret: boolean): string {
    const env = envVarName(this.connectorId, name);
    return isSecret
      ? `environment variable ${env} (a secret: never from a settings file)`
      : `environment variable ${env} or "${name}" under "${this.connectorId}" in the settings file`;
  }
}

export async function readSettingsFile(file: string): Promise<SettingsFile> {
  const parsed = parseDefinitionJson(await readFile(file, "utf8"), file);
  return checkSettingsFile(parsed, file);
}

export function checkSettingsFile(parsed: unknown, file: string): SettingsFile {
  if (!isRecord(parsed)) {
    throw new DefinitionError(
      file,
      "$",
      'an object { "<connectorId>": { "<name>": value } }',
      describeValue(parsed),
    );
  }
  for (const [id, entry] of Object.entries(parsed)) {
    if (!isRecord(entry)) {
      throw new DefinitionError(
        file,
        `$['${id}']`,
        "an object of setting name → value",
        describeValue(entry),
      );
    }
  }
  return parsed as SettingsFile;
}

/** The settings-file entry for a connector id, matched the same way environment names are. */
export function settingsEntryFor(
  file: SettingsFile | undefined,
  connectorId: string,
): Readonly<Record<string, unknown>> | undefined {
  if (file === undefined) return undefined;
  const token = settingToken(connectorId);
  const key = Object.keys(file).find((k) => k === connectorId || settingToken(k) === token);
  return key === undefined ? undefined : file[key];
}
