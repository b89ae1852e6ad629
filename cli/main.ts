/**
 * The single entry of `hkex-ready`. Command modules are imported lazily so
 * that `--version` and `--help` stay fast and @pulumi/* is loaded only by the
 * commands that need it (plan, policy).
 */
import { Command, CommanderError, Option } from "commander";
import { InputError } from "../core/errors";
import { toolVersion } from "../core/version";

export type CommandRunner<O> = (opts: O) => Promise<number>;

export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2, internal: 3 });

const siteOption = () => new Option("--site <site>", "which site to check").choices(["primary", "secondary", "all"]).default("all");
const formatOption = () => new Option("--format <format>", "how to print the result on stdout").choices(["text", "tap"]).default("text");

/** Adds the output options shared by check and session. */
function withOutputs(cmd: Command): Command {
  return cmd
    .option("--json", "print the report as JSON on stdout (no progress display)")
    .addOption(formatOption())
    .option("--junit <file>", "also write a JUnit XML report")
    .option("--no-progress", "print plain lines instead of a live task list");
}

// biome-ignore lint/suspicious/noExplicitAny: each command module takes its own options type; commander hands the options over untyped
export function buildProgram(run: (load: () => Promise<{ run: CommandRunner<any> }>, opts: object) => Promise<void>): Command {
  const program = new Command("hkex-ready")
    .description("Readiness checks, switchover session and evidence for the HKEX derivatives SFTP facility (TCP 18801)")
    .version(toolVersion(), "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    // Set before the subcommands are added: they copy these settings when created.
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`hkex-ready: ${s.replace(/^error: /, "")}`),
    });

  withOutputs(
    program
      .command("check")
      .description("pre-session readiness check: tcp, banner, hostkey, auth, sftp, list (and download with --download)")
      .requiredOption("-c, --config <file>", "YAML config file")
      .addOption(siteOption())
      .option("--download", "also download the configured files and verify them")
      .option("--report-dir <dir>", "write report.json and its companions to this folder")
      .option("--prometheus <file>", "write a node_exporter textfile with probe_success and phase durations"),
  ).action((opts) => run(() => import("./commands/check.js"), opts));

  withOutputs(
    program
      .command("session")
      .description("run the connectivity session: primary check, Part 1 on secondary, Part 2 back on primary")
      .requiredOption("-c, --config <file>", "YAML config file")
      .requiredOption("--report-dir <dir>", "folder for the evidence and the session state")
      .addOption(new Option("--part <n>", "run only this part (state is kept in --report-dir)").choices(["1", "2"]))
      .option("--date <yyyy-mm-dd>", "session date for the e-mail (default: today in Hong Kong)")
      .addOption(new Option("--weather <warning>", "weather warning in force").choices(["signal8", "black-rainstorm", "extreme"]))
      .option("--issued-at <HH:MM>", "when the weather warning was issued (Hong Kong time)")
      .option("--attach", "attach the evidence to confirmation.eml")
      .option("--allow-missing-part1", "with --part 2: record Part 2 even though --report-dir holds no Part 1 state"),
  ).action((opts) => run(() => import("./commands/session.js"), opts));

  program
    .command("trust")
    .description("record the host keys the endpoints present now into knownHostsFile, printing each fingerprint")
    .requiredOption("-c, --config <file>", "YAML config file")
    .addOption(siteOption())
    .action((opts) => run(() => import("./commands/trust.js"), opts));

  program
    .command("exporter")
    .description("serve the readiness check as a Prometheus exporter: GET /probe?site=primary|secondary|all runs it at scrape time")
    .requiredOption("-c, --config <file>", "YAML config file")
    .option("--listen <host:port>", "address to listen on (loopback unless --allow-remote)", "127.0.0.1:9918")
    .option("--allow-remote", "allow a --listen address other machines can reach (put a firewall in front)")
    .action((opts) => run(() => import("./commands/exporter.js"), opts));

  program
    .command("simulate")
    .description("run the built-in simulator of the HKEX SFTP facility on loopback until interrupted")
    .option("--dir <dir>", "write keys, known_hosts and a ready-to-use config here", "./hkex-sim")
    .option("--fault <host=fault...>", "fault switch for an endpoint, e.g. 10.152.14.142=refuse (repeatable)")
    .action((opts) => run(() => import("./commands/simulate.js"), opts));

  program
    .command("demo")
    .description("rehearse a whole session against the built-in simulator and write the evidence")
    .option("--report-dir <dir>", "where to write the evidence", "./evidence/demo")
    .option("--json", "print the report as JSON on stdout")
    .option("--fault <host=fault...>", "fault switch for an endpoint, e.g. 10.152.14.142=drop-mid-transfer")
    .option("--no-progress", "print plain lines instead of a live task list")
    .option("--attach", "attach the evidence to confirmation.eml")
    .action((opts) => run(() => import("./commands/demo.js"), opts));

  program
    .command("schedule")
    .description("show the session dates, windows and registration deadlines, and what is due now (Hong Kong time)")
    .option("--now <iso>", "pretend it is this instant (ISO 8601)")
    .option("--json", "print as JSON")
    .action((opts) => run(() => import("./commands/schedule.js"), opts));

  program
    .command("plan")
    .description("run the Pulumi program offline under mocks, print the planned rules and routes, and run the policy pack")
    .requiredOption("--stack-config <file>", "a Pulumi.<stack>.yaml stack config")
    .option("--policy-pack-config <file>", "policy pack config (levels, settings, exceptions with reasons)")
    .option("--json", "print as JSON")
    .action((opts) => run(() => import("./commands/plan.js"), opts));

  program
    .command("policy")
    .description("run the policy pack on `pulumi stack export` or `pulumi preview --json` output")
    .requiredOption("--state <file>", "exported stack state or preview JSON")
    .option("--policy-pack-config <file>", "policy pack config (levels, settings, exceptions with reasons)")
    .option("--json", "print as JSON")
    .action((opts) => run(() => import("./commands/policy.js"), opts));

  return program;
}

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
