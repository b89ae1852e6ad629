/**
 * Typed errors. Library code throws these and never calls process.exit; the
 * CLI entry turns them into exit codes (2 for usage/config problems).
 */

export interface InputProblem {
  /** Dotted path of the offending key, or the argument/flag name. */
  readonly path: string;
  readonly message: string;
}

/** Bad input: config, flags, key files, known_hosts, stack config, state file. Exit code 2. */
export class InputError extends Error {
  readonly problems: readonly InputProblem[];
  constructor(
    problems: readonly InputProblem[] | InputProblem,
    readonly source?: string,
  ) {
    const list = Array.isArray(problems) ? problems : [problems as InputProblem];
    super(formatProblems(list, source));
    this.name = "InputError";
    this.problems = list;
  }
}

function formatProblems(problems: readonly InputProblem[], source?: string): string {
  const head = source ? `${source}: ` : "";
  return problems.map((p) => `${head}${p.path ? `${p.path}: ` : ""}${p.message}`).join("\n");
}
