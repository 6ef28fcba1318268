/** Where the time went: the top functions by self time in a V8 `.cpuprofile` written by `node --cpu-prof`. */
import { readFile } from "node:fs/promises";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  function: string;
  /**
   * `file:line` (1-based) for dependencies; for the repository's own code the TypeScript source file (the
   * workers run compiled JavaScript, whose lines are not the source's); empty for V8's pseudo-frames.
   */
  location: string;
  selfMs: number;
  /** Share of the sampled time in the measured interval. */
  selfPercent: number;
}

/**
 * Self time per function for the samples between `fromUs` and `toUs` (process.hrtime in µs, the clock V8's
 * sample timestamps use on Linux), so module loading and setup stay out of the picture. Idle time is left out.
 */
export async function topFunctions(
  profilePath: string,
  interval: { fromUs: number; toUs: number },
  paths: { repoRoot: string; buildDir: string },
  count = 5,
): Promise<HotFunction[]> {
  const profile = JSON.parse(await readFile(profilePath, "utf8")) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<string, { function: string; location: string; us: number }>();
  let sampledUs = 0;
  let at = profile.startTime;
  for (const [index, nodeId] of profile.samples.entries()) {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    const frame = frames.get(nodeId);
    if (
      at < interval.fromUs ||
      at > interval.toUs ||
      frame === undefined ||
      frame.functionName === "(idle)"
    ) {
      continue;
    }
    sampledUs += delta;
    const location = locate(frame, paths);
    const key = `${frame.functionName}\u0000${location}`;
    const entry = selfUs.get(key) ?? { function: frame.functionName || "(anonymous)", location, us: 0 };
    entry.us += delta;
    selfUs.set(key, entry);
  }
  return [...selfUs.values()]
    .sort((left, right) => right.us - left.us)
    .slice(0, count)
    .map((entry) => ({
      function: entry.function,
      location: entry.location,
      selfMs: round(entry.us / 1000),
      selfPercent: sampledUs === 0 ? 0 : round((100 * entry.us) / sampledUs),
    }));
}

function locate(frame: ProfileNode["callFrame"], paths: { repoRoot: string; buildDir: string }): string {
  if (frame.url === "") return "";
  const file = frame.url.startsWith("file://") ? new URL(frame.url).pathname : frame.url;
  if (file.startsWith(`${paths.buildDir}/`))
    return path.relative(paths.buildDir, file).replace(/\.js$/, ".ts");
  const shown = file.startsWith(`${paths.repoRoot}/`) ? path.relative(paths.repoRoot, file) : file;
  return `${shown}:${frame.lineNumber + 1}`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
