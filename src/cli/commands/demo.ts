/**
 * `ccp-poller demo` (what `npm start` runs): the embedded default, see src/local/demo.ts. Ctrl-C stops
 * everything it started and exits 0.
 */
import path from "node:path";
import { runDemo } from "../../local/demo.ts";
import type { CliCommand } from "../command.ts";
import { commandRootDir, createProgress, exitCodes, statusTable } from "../shared.ts";

interface DemoOptions {
  windows: string;
  duration: string;
  speed: string;
  lookback: string;
  dataDir: string;
}

export const demoCommand: CliCommand = {
  register(program, io, exit) {
    program
      .command("demo")
      .description(
        "run the shipped Jira connector against a local Jira fake, Azurite and a Logs Ingestion stand-in, in accelerated time (no Azure account)",
      )
      .option("--windows <n>", "stop after this many committed 5-minute windows", "12")
      .option("--duration <seconds>", "stop after this many real seconds at the latest", "120")
      .option("--speed <factor>", "demo seconds per real second", "120")
      .option("--lookback <minutes>", "the first run catches up this many demo minutes", "30")
      .option("--data-dir <dir>", "where ingested rows and certificates are kept", ".local-run")
      .action(async (options: DemoOptions) => {
        const numbers = {
          windows: Number(options.windows),
          duration: Number(options.duration),
          speed: Number(options.speed),
          lookback: Number(options.lookback),
        };
        const bad = Object.entries(numbers).find(([, value]) => !(Number.isFinite(value) && value > 0));
        if (bad !== undefined || numbers.speed < 1) {
          io.stderr(
            `--${bad?.[0] ?? "speed"}: expected a positive number${bad ? "" : " of at least 1"}, got "${options[(bad?.[0] ?? "speed") as keyof DemoOptions]}".`,
          );
          exit(exitCodes.usage);
          return;
        }
        const controller = new AbortController();
        // Kept until the end: Ctrl-C reaches this process twice (from the terminal and relayed by tsx/npm), and
        // a second default SIGINT would kill it before Azurite is stopped and the status is printed.
        const stop = () => {
          if (controller.signal.aborted) return;
          io.stderr("Stopping: finishing the window in flight, then closing everything…");
          controller.abort();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        const progress = createProgress(io);
        try {
          const result = await runDemo({
            rootDir: commandRootDir(),
            dataDir: path.resolve(options.dataDir),
            speed: numbers.speed,
            windows: numbers.windows,
            durationMs: numbers.duration * 1000,
            lookbackMinutes: numbers.lookback,
            signal: controller.signal,
            onStarted: (info) => {
              io.stdout(`Azurite (in memory)        ${info.azuriteTableEndpoint}`);
              io.stdout(`Logs Ingestion stand-in    ${info.ingestionEndpoint}`);
              io.stdout(
                `Demo Jira upstream         ${info.upstreamOrigin} (an audit record every 20 s of demo time)`,
              );
              io.stdout(`Connector                  ${info.connectorFile}`);
              io.stdout(
                `Clock                      ${numbers.speed}× real time: a 5-minute window completes every ${Math.round((300 / numbers.speed) * 10) / 10} s; the first run catches up ${numbers.lookback} minutes`,
              );
              io.stdout("Press Ctrl-C to stop.");
              io.stdout("");
            },
            onWindow: (report) => progress.window(report),
            onLog: (line) => progress.log(line),
          });
          progress.end();
          io.stdout("");
          for (const line of statusTable(result.status)) io.stdout(line);
          io.stdout("");
          io.stdout(`${result.windowsCommitted} window(s) committed; stopped by ${result.stoppedBy}.`);
          io.stdout(`${result.rowCount} row(s) ingested, one JSON object per line: ${result.rowsFile}`);
          exit(exitCodes.ok);
        } finally {
          progress.end(); // Held-back log lines explain a failed start too.
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
        }
      });
  },
};
