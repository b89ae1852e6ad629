/**
 * Binding the endpoints: every one on its loopback alias (127.0.b.d), or,
 * where that cannot be done and the caller allows it, every one on 127.0.0.1
 * with an ephemeral port. Then the listener-level faults take effect, and the
 * sites table and config entries point at what was actually bound.
 */
import { SITE_NAMES, type SiteDefinition, type SiteName, type SiteTable } from "../../catalogue";
import { InputError } from "../../core/errors";
import { LOCALHOST, hostPortEntry, loopbackAliasFor } from "./addresses";
import type { Endpoint } from "./endpoint";
import { isListenerFault, type Fault } from "./faults";
import type { ListenerMode } from "./listener";

export type BindMode = "auto" | "aliases" | "localhost";

export interface Binding {
  readonly endpoints: Endpoint[];
  readonly fallback: boolean;
  readonly fallbackReason?: string;
}

/** Makes the endpoints for where they listen: `bindHostOf` maps a catalogue host to its bind address. */
export type EndpointMaker = (bindHostOf: (host: string) => string, port: number) => Endpoint[];

export function listenerModeFor(fault: Fault | "none"): ListenerMode {
  return fault === "down" ? "closed" : fault === "blackhole" ? "blackhole" : "listening";
}

export async function bindEndpoints(make: EndpointMaker, mode: BindMode, port: number, count: number): Promise<Binding> {
  if (mode === "localhost") {
    if (port !== 0 && count > 1) {
      throw new InputError({ path: "port", message: `with bind "localhost" the ${count} endpoints need a port each: use port 0` });
    }
    return { endpoints: await bindAll(make(() => LOCALHOST, port)), fallback: false };
  }
  try {
    return { endpoints: await bindAll(make(loopbackAliasFor, port)), fallback: false };
  } catch (err) {
    if (mode === "aliases") throw err;
    const fallbackReason = `${(err as Error).message}; listening on ${LOCALHOST} with an ephemeral port per endpoint instead`;
    return { endpoints: await bindAll(make(() => LOCALHOST, 0)), fallback: true, fallbackReason };
  }
}

/** Binds every endpoint; on any failure closes those already bound and throws. */
async function bindAll(eps: Endpoint[]): Promise<Endpoint[]> {
  const bound: Endpoint[] = [];
  try {
    for (const ep of eps) {
      try {
        await ep.listener.switchTo("listening");
      } catch (err) {
        throw new Error(`could not listen on ${hostPortEntry(ep.view.bindHost, ep.view.port)} (${describeBindError(err)})`, {
          cause: err,
        });
      }
      bound.push(ep);
      ep.view.port = ep.listener.boundPort;
    }
  } catch (err) {
    await Promise.all(bound.map((ep) => ep.listener.close()));
    throw err;
  }
  return eps;
}

/** Once every endpoint has its port, down and blackhole take the place of the listener. */
export async function applyListenerFaults(eps: readonly Endpoint[]): Promise<void> {
  try {
    await Promise.all(eps.filter((ep) => isListenerFault(ep.view.fault)).map((ep) => ep.listener.switchTo(listenerModeFor(ep.view.fault))));
  } catch (err) {
    await Promise.all(eps.map((ep) => ep.listener.close().catch(() => {})));
    throw err;
  }
}

function describeBindError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "EADDRNOTAVAIL":
      return "EADDRNOTAVAIL: the loopback alias is not configured (on macOS: sudo ifconfig lo0 alias <address>)";
    case "EADDRINUSE":
      return "EADDRINUSE: the port is already in use";
    case "EACCES":
      return "EACCES: not allowed to bind there";
    default:
      return code ?? (err as Error).message;
  }
}

/** The sites table pointing at the bind hosts; a site's port is its first endpoint's. */
export function siteTableOf(sites: SiteTable, endpoints: readonly Endpoint[], requestedPort: number): SiteTable {
  return Object.fromEntries(
    SITE_NAMES.map((name): [SiteName, SiteDefinition] => {
      const eps = endpoints.filter((e) => e.view.site === name);
      const first = eps[0];
      const range =
        first === undefined
          ? sites[name].range
          : first.view.bindHost === LOCALHOST
            ? `${LOCALHOST}/32`
            : `${first.view.bindHost.split(".").slice(0, 3).join(".")}.0/24`;
      return [
        name,
        Object.freeze({
          ...sites[name],
          hosts: Object.freeze(eps.map((e) => e.view.bindHost)),
          port: first?.view.port ?? requestedPort,
          range,
        }),
      ];
    }),
  ) as unknown as SiteTable;
}
