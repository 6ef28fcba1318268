/** What a command may touch, passed in so tests run commands in-process with captured output. */
import { createInterface } from "node:readline/promises";

export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** True when stdout is a terminal: commands may redraw lines instead of appending them. */
  isTTY?: boolean;
  /** Asks a question and resolves to the answer line, or undefined when input ended without one. */
  prompt?(question: string): Promise<string | undefined>;
}

export const processIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  prompt: async (question) => {
    const reader = createInterface({ input: process.stdin, output: process.stderr });
    // question() never settles when stdin ends first (nothing piped, no terminal): that is "no answer".
    const ended = new Promise<undefined>((resolve) => reader.once("close", () => resolve(undefined)));
    try {
      return await Promise.race([reader.question(question), ended]);
    } finally {
      reader.close();
    }
  },
};
