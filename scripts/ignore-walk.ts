/**
 * Lists the files under a folder that survive a gitignore-syntax rule list, the way azd walks a service folder
 * when it zips it (`.funcignore` read by a gitignore matcher relative to that folder; an excluded folder is not
 * entered; symlinks are followed, so their targets ship as plain files).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ignore from "ignore";

export interface WalkOptions {
  /** gitignore-syntax rules, relative to `root`. */
  rules: string;
  /** Extra exclusions decided by name, before the rules (e.g. azd's own `.azure` and `local.settings.json`). */
  exclude?: (relativePath: string, isDirectory: boolean) => boolean;
}

/** Relative paths (with `/`) of every file that is kept, sorted. */
export function includedFiles(root: string, options: WalkOptions): string[] {
  const matcher = ignore().add(options.rules);
  const files: string[] = [];
  const walk = (relativeDir: string) => {
    for (const entry of readdirSync(path.join(root, relativeDir)).sort()) {
      const relativePath = relativeDir === "" ? entry : `${relativeDir}/${entry}`;
      const isDirectory = statSync(path.join(root, relativePath)).isDirectory();
      if (options.exclude?.(relativePath, isDirectory)) continue;
      if (matcher.ignores(isDirectory ? `${relativePath}/` : relativePath)) continue;
      if (isDirectory) walk(relativePath);
      else files.push(relativePath);
    }
  };
  walk("");
  return files;
}

/**
 * The files `azd deploy` puts in a function app's zip, from the folder it packages: `.funcignore` there (if any)
 * as gitignore rules, plus azd's own exclusions by name at any depth: `.azure` folders, the `.funcignore` file
 * itself and `local.settings.json` (azure-dev, cli/azd/pkg/project/project_utils.go, createDeployableZip).
 */
export function azdFunctionPackageFiles(serviceDir: string): string[] {
  const ignoreFile = path.join(serviceDir, ".funcignore");
  return includedFiles(serviceDir, {
    rules: existsSync(ignoreFile) ? readFileSync(ignoreFile, "utf8") : "",
    exclude: (relativePath, isDirectory) => {
      const name = path.posix.basename(relativePath);
      return isDirectory ? name === ".azure" : name === ".funcignore" || name === "local.settings.json";
    },
  });
}
