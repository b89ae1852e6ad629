/**
 * The routing part of hkex:network:SftpAccess: in each given route table, a
 * route per site range (or per endpoint /32) to the one configured target.
 */
import * as aws from "@pulumi/aws";
import type { SiteDefinition } from "../catalogue";
import { AWS_TYPES } from "./awsTypes";
import { hostCidr } from "./cidr";
import type { SftpAccessArgs } from "./config";
import { childOptions, dashed, type ChildContext } from "./naming";
import { routeTargetArgs } from "./routeTarget";

export interface RouteDestination {
  readonly site: SiteDefinition;
  readonly cidr: string;
}

export interface SiteRoute extends RouteDestination {
  readonly route: aws.ec2.Route;
}

/** Destinations a route table needs: one per site range, or one per host. */
function routeDestinations(args: Pick<SftpAccessArgs, "sites" | "routeGranularity">): RouteDestination[] {
  return args.sites.flatMap((site) =>
    args.routeGranularity === "host" ? site.hosts.map((h) => ({ site, cidr: hostCidr(h) })) : [{ site, cidr: site.range }],
  );
}

export function siteRoutes(
  ctx: ChildContext,
  args: Pick<SftpAccessArgs, "sites" | "routeGranularity" | "routeTableIds" | "routeTarget">,
): SiteRoute[] {
  const target = args.routeTarget;
  // validateSftpAccessArgs rejects route tables without a target, so only an empty table list gets here.
  if (target === undefined) return [];
  const destinations = routeDestinations(args);
  // A route's name holds its table and destination, the two inputs AWS cannot change in place,
  // so a replacement is always a new name: no two routes ever share a table and destination
  // (AWS refuses that: RouteAlreadyExists). A new target is an in-place ReplaceRoute.
  return args.routeTableIds.flatMap((routeTableId) =>
    destinations.map((d) => {
      const name = `${ctx.name}-${routeTableId}-${dashed(d.cidr)}`;
      return {
        ...d,
        route: new aws.ec2.Route(
          name,
          { routeTableId, destinationCidrBlock: d.cidr, ...routeTargetArgs(target) },
          childOptions(ctx, AWS_TYPES.route, name),
        ),
      };
    }),
  );
}
