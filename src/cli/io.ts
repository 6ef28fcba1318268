/** What a command may touch, passed in so tests run commands in-process with captured output. */
export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

export const processIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};
