/**
 * The commands of `hkex-ready` as a table: name, description, the command's
 * own options, and the module that runs it. check, session and demo also get
 * their output flags from the format registry (checks/evidence/formats.ts);
 * the choices of --site, --part and --weather come from the catalogue and
 * checks/weatherWarnings.ts. Command modules are imported lazily so that
 * --version and --help stay fast and @pulumi/* is loaded only by plan and
 * policy; nothing imported here may load ssh2, zod, yaml or luxon
 * (test/cli/program.test.ts holds it to that).
 */
import { Command, Option } from "commander";
import { SESSION_PARTS, SITE_NAMES } from "../catalogue";
import { outputFlags, REPORT_COMMANDS, type OutputFlag, type ReportCommand } from "../checks/evidence/formats";
import { WEATHER_WARNINGS } from "../checks/weatherWarnings";
import { toolVersion } from "../core/version";

export type CommandRunner<O> = (opts: O) => Promise<number>;
// biome-ignore lint/suspicious/noExplicitAny: each command module takes its own options type; commander hands the options over untyped
export type CommandModule = { run: CommandRunner<any> };

export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  /** The command's own options; the output flags of a report command are added from the registry. */
  readonly options: () => readonly Option[];
  readonly load: () => Promise<CommandModule>;
}

/** "all" stands for every site of the catalogue. */
const SITE_CHOICES: readonly string[] = [...SITE_NAMES, "all"];
const PART_CHOICES: readonly string[] = SESSION_PARTS.map((p) => String(p.part));

const configOption = () => new Option("-c, --config <file>", "YAML config file").makeOptionMandatory();
const siteOption = () => new Option("--site <site>", "which site to check").choices(SITE_CHOICES).default("all");
const packConfigOption = () => new Option("--policy-pack-config <file>", "policy pack config (levels, settings, exceptions with reasons)");
const printJsonOption = () => new Option("--json", "print as JSON");

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "check",
    description: "pre-session readiness check: tcp, banner, hostkey, auth, sftp, list (and download with --download)",
    options: () => [configOption(), siteOption(), new Option("--download", "also download the configured files and verify them")],
    load: () => import("./commands/check.js"),
  },
  {
    name: "session",
    description: "run the connectivity session: primary check, Part 1 on secondary, Part 2 back on primary",
    options: () => [
      configOption(),
      new Option("--part <n>", "run only this part (state is kept in --report-dir)").choices(PART_CHOICES),
      new Option("--date <yyyy-mm-dd>", "session date (default: today in Hong Kong; another day needs --rehearsal)"),
      new Option("--weather <warning>", "weather warning in force").choices(WEATHER_WARNINGS),
      new Option("--issued-at <HH:MM>", "when the weather warning was issued (Hong Kong time)"),
      new Option("--allow-missing-part1", "with --part 2: record Part 2 even though --report-dir holds no Part 1 state"),
      new Option("--rehearsal", "a rehearsal, not the real session: allows a --date other than today; the e-mail is a draft not to send"),
    ],
    load: () => import("./commands/session.js"),
  },
  {
    name: "trust",
    description: "record the host keys the endpoints present now into knownHostsFile, printing each fingerprint",
    options: () => [configOption(), siteOption()],
    load: () => import("./commands/trust.js"),
  },
  {
    name: "exporter",
    description: "serve the readiness check as a Prometheus exporter: GET /probe?site=primary|secondary|all runs it at scrape time",
    options: () => [
      configOption(),
      new Option("--listen <host:port>", "address to listen on (loopback unless --allow-remote)").default("127.0.0.1:9918"),
      new Option("--allow-remote", "allow a --listen address other machines can reach (put a firewall in front)"),
    ],
    load: () => import("./commands/exporter.js"),
  },
  {
    name: "simulate",
    description: "run the built-in simulator of the HKEX SFTP facility on loopback until interrupted",
    options: () => [
      new Option("--dir <dir>", "write keys, known_hosts and a ready-to-use config here").default("./hkex-sim"),
      new Option("--fault <host=fault...>", "fault switch for an endpoint, e.g. 10.152.14.142=refuse (repeatable)"),
    ],
    load: () => import("./commands/simulate.js"),
  },
  {
    name: "demo",
    description: "rehearse a whole session against the built-in simulator and write the evidence",
    options: () => [new Option("--fault <host=fault...>", "fault switch for an endpoint, e.g. 10.152.14.142=drop-mid-transfer")],
    load: () => import("./commands/demo.js"),
  },
  {
    name: "schedule",
    description: "show the session dates, windows and registration deadlines, and what is due now (Hong Kong time)",
    options: () => [
      new Option("-c, --config <file>", "YAML config whose sessionDays give the session calendar (default: the catalogue's days)"),
      new Option("--now <iso>", "pretend it is this instant (ISO 8601)"),
      printJsonOption(),
    ],
    load: () => import("./commands/schedule.js"),
  },
  {
    name: "plan",
    description: "run the Pulumi program offline under mocks, print the planned rules and routes, and run the policy pack",
    options: () => [
      new Option("--stack-config <file>", "a Pulumi.<stack>.yaml stack config").makeOptionMandatory(),
      packConfigOption(),
      printJsonOption(),
    ],
    load: () => import("./commands/plan.js"),
  },
  {
    name: "policy",
    description: "run the policy pack on `pulumi stack export` or `pulumi preview --json` output",
    options: () => [
      new Option("--state <file>", "exported stack state or preview JSON").makeOptionMandatory(),
      packConfigOption(),
      printJsonOption(),
    ],
    load: () => import("./commands/policy.js"),
  },
];

export function isReportCommand(name: string): name is ReportCommand {
  return (REPORT_COMMANDS as readonly string[]).includes(name);
}

/** A registry flag as a commander Option. */
function outputOption(flag: OutputFlag): Option {
  const option = new Option(flag.flags, flag.help);
  if (flag.choices) option.choices(flag.choices);
  if (flag.default !== undefined) option.default(flag.default);
  if (flag.required) option.makeOptionMandatory();
  return option;
}

/** Every option of a command: its own, then (check, session, demo) the output flags the registry gives it. */
function optionsOf(spec: CommandSpec): Option[] {
  return [...spec.options(), ...(isReportCommand(spec.name) ? outputFlags(spec.name).map(outputOption) : [])];
}

export function buildProgram(run: (load: () => Promise<CommandModule>, opts: object) => Promise<void>): Command {
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
  for (const spec of COMMANDS) {
    const command = program.command(spec.name).description(spec.description);
    for (const option of optionsOf(spec)) command.addOption(option);
    command.action((opts) => run(spec.load, opts));
  }
  return program;
}
