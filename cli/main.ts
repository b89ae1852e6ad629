/**
 * The single entry of `hkex-ready`: parses the command line (cli/program.ts),
 * runs the command, and turns what it throws into an exit code
 * (cli/exitCodes.ts). bin/hkex-ready.js hands that code to process.exit.
 */
import { CommanderError } from "commander";
import { InputError } from "../core/errors";
import { EXIT } from "./exitCodes";
import { buildProgram } from "./program";

export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(async (load, opts) => {
    const mod = await load();
    code = await mod.run(opts);
  });
  try {
    await program.parseAsync(argv as string[]);
    return code;
  } catch (err) {
    return exitCodeFor(err);
  }
}

/** Usage and input problems are one clear line each (exit 2); anything else is a bug, printed with its stack (exit 3). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version exit through here with code 0; everything else is usage.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof InputError) {
    process.stderr.write(`hkex-ready: ${err.message.split("\n").join("\nhkex-ready: ")}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`hkex-ready: internal error (please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.internal;
}
