/** `hkex-ready exporter`: the readiness check as a Prometheus exporter (checks/exporter/, docs/monitoring.md). */
import { parseListen } from "../../checks/exporter/listen";
import { startExporter } from "../../checks/exporter/server";
import { InputError } from "../../core/errors";
import { loadAll } from "../../checks/inputs";

export interface ExporterCommandOptions {
  readonly config: string;
  readonly listen: string;
  readonly allowRemote?: boolean;
}

const log = (line: string) => process.stderr.write(`hkex-ready exporter: ${line.split("\n").join("\nhkex-ready exporter: ")}\n`);

export async function run(opts: ExporterCommandOptions): Promise<number> {
  // Flags first: a refused address is a usage error before the config is read.
  const listen = parseListen(opts.listen, Boolean(opts.allowRemote));
  const exporter = await startExporter({ host: listen.host, port: listen.port, load: () => loadAll(opts.config), log }).catch(
    (err: NodeJS.ErrnoException) => {
      const why: Record<string, string> = {
        EADDRINUSE: "the port is already in use",
        EACCES: "not allowed to listen there (ports below 1024 need privileges)",
        EADDRNOTAVAIL: "no interface of this machine has that address",
      };
      if (err.code && why[err.code])
        throw new InputError({ path: "--listen", message: `cannot listen on ${opts.listen}: ${why[err.code]}` });
      throw err;
    },
  );
  for (const w of exporter.current().warnings) log(`warning: ${w}`);
  process.stdout.write(`hkex-ready exporter listening on ${exporter.url} (config ${exporter.current().config.file})\n`);
  const onHup = () => void exporter.reload();
  process.on("SIGHUP", onHup);
  try {
    const which = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    log(`${which}: stopping`);
  } finally {
    process.removeListener("SIGHUP", onHup);
    await exporter.close();
  }
  // Stopping on request is how a service ends: not a failure.
  return 0;
}
