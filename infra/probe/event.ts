/**
 * The schedule's constant input: the event the handler validates
 * (checks/vpcProbe/event.ts), built from the probe block and the sites the
 * component opens, so the probe tests exactly the endpoints the rules allow.
 * It carries no secret: the key is read by the function from the secret its
 * environment names.
 */
import type { SiteDefinition } from "../../catalogue";
import type { ProbeArgs } from "./config";

export interface ProbeEvent {
  readonly config: {
    readonly user: string;
    readonly files: readonly string[];
    readonly remoteDir: string;
    readonly sites: Readonly<Record<string, { readonly hosts: readonly string[]; readonly port: number }>>;
    readonly timeouts?: ProbeArgs["timeouts"];
  };
  readonly knownHosts: string;
  /** "all", or the one site when the component opens only one. */
  readonly site: string;
}

export function probeEvent(probe: ProbeArgs, sites: readonly SiteDefinition[]): ProbeEvent {
  return {
    config: {
      user: probe.user,
      files: probe.files,
      remoteDir: probe.remoteDir,
      sites: Object.fromEntries(sites.map((s) => [s.name, { hosts: s.hosts, port: s.port }])),
      ...(probe.timeouts === undefined ? {} : { timeouts: probe.timeouts }),
    },
    knownHosts: probe.knownHosts,
    site: sites.length === 1 ? sites[0]!.name : "all",
  };
}
