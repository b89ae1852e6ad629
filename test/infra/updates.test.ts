/**
 * What an update would do to a live stack: two mock runs, before and after a
 * change, compared by URN the way the engine diffs them. A resource whose
 * URN stays and whose inputs change is updated or replaced (every input of a
 * NACL rule, a path and a route's table and destination force a
 * replacement); a URN that disappears is deleted, a new one created.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AWS_TYPES } from "../../infra/awsTypes";
import { parseStackConfig } from "../../infra/config";
import { type CapturedResource, type MockRun, runProgramUnderMocks, runUnderMocks } from "../../infra/mockRuntime";
import { SftpAccess } from "../../infra/sftpAccess";
import { config, named } from "../support/infra";

const BASE = {
  vpcId: "vpc-0a1b2c3d4e5f60789",
  attach: { networkInterfaceIds: ["eni-0a1b2c3d4e5f60789"] },
  networkAclIds: ["acl-0a1b2c3d4e5f60789", "acl-0b1c2d3e4f5a60789"],
  naclRuleNumberBase: 200,
  routeTableIds: ["rtb-0a1b2c3d4e5f60789"],
  routeTarget: { transitGatewayId: "tgw-0a1b2c3d4e5f60789" },
  reachability: { analyze: true },
};

const BOTH_SITES = {
  primary: { hosts: ["10.151.14.141", "10.151.14.142"], range: "10.151.14.0/24" },
  secondary: { hosts: ["10.152.14.141", "10.152.14.142"], range: "10.152.14.0/24" },
};

/**
 * Inputs with every mock id replaced by the URN of the resource that holds
 * it: mock ids follow registration order, which a change may shift, while
 * the engine compares the references themselves. The analysis hash is left
 * out here and compared on its own.
 */
function comparable(run: MockRun): Map<string, unknown> {
  const urnOf = new Map(run.resources.flatMap((r) => (r.id ? [[r.id, r.urn] as const] : [])));
  const swap = (v: unknown): unknown =>
    typeof v === "string"
      ? (urnOf.get(v) ?? v)
      : Array.isArray(v)
        ? v.map(swap)
        : v !== null && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).flatMap(([k, x]) => (k === "hkex:path-inputs" ? [] : [[k, swap(x)]])))
          : v;
  return new Map(run.resources.filter((r) => r.custom).map((r) => [r.urn, swap(r.inputs)]));
}

interface Diff {
  created: string[];
  deleted: string[];
  changed: string[];
}

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

function diff(before: MockRun, after: MockRun): Diff {
  const a = comparable(before);
  const b = comparable(after);
  const names = (urns: string[]) => urns.map(nameOf).sort();
  return {
    created: names([...b.keys()].filter((u) => !a.has(u))),
    deleted: names([...a.keys()].filter((u) => !b.has(u))),
    changed: names([...b.keys()].filter((u) => a.has(u) && JSON.stringify(a.get(u)) !== JSON.stringify(b.get(u)))),
  };
}

/** AWS holds one entry per ACL, direction and rule number. */
function naclKeys(rs: readonly CapturedResource[]): string[] {
  return rs
    .filter((r) => r.type === AWS_TYPES.networkAclRule)
    .map((r) => `${r.inputs.networkAclId}/${r.inputs.egress}/${r.inputs.ruleNumber}`);
}

const triggerOf = (run: MockRun) =>
  new Set(run.resources.filter((r) => r.type === AWS_TYPES.networkInsightsAnalysis).map((r) => r.options?.replacementTrigger));

describe("updates to a live stack", async () => {
  const before = await runUnderMocks(config(BASE), "prod");
  const again = await runUnderMocks(config(BASE), "prod");

  it("the same config twice changes nothing, the analyses' hash included", () => {
    expect(diff(before, again)).toEqual({ created: [], deleted: [], changed: [] });
    expect(triggerOf(again)).toEqual(triggerOf(before));
  });

  it("no two NACL rules ever hold the same ACL, direction and number", () => {
    const keys = naclKeys(before.resources);
    expect(keys).toHaveLength(8);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("removing the primary leaves the secondary's rules, numbers and routes untouched", async () => {
    const after = await runUnderMocks(
      config({ ...BASE, sites: { secondary: { hosts: ["10.152.14.141", "10.152.14.142"], range: "10.152.14.0/24" } } }),
      "prod",
    );
    const d = diff(before, after);
    expect(d.created).toEqual([]);
    expect(d.changed).toEqual([]);
    expect(d.deleted).toEqual(
      [
        "hkex-sftp-acl-0a1b2c3d4e5f60789-egress-primary",
        "hkex-sftp-acl-0a1b2c3d4e5f60789-ingress-primary",
        "hkex-sftp-acl-0b1c2d3e4f5a60789-egress-primary",
        "hkex-sftp-acl-0b1c2d3e4f5a60789-ingress-primary",
        "hkex-sftp-analysis-eni-0a1b2c3d4e5f60789-primary-10-151-14-141",
        "hkex-sftp-analysis-eni-0a1b2c3d4e5f60789-primary-10-151-14-142",
        "hkex-sftp-egress-primary-10-151-14-141",
        "hkex-sftp-egress-primary-10-151-14-142",
        "hkex-sftp-path-eni-0a1b2c3d4e5f60789-primary-10-151-14-141",
        "hkex-sftp-path-eni-0a1b2c3d4e5f60789-primary-10-151-14-142",
        "hkex-sftp-rtb-0a1b2c3d4e5f60789-10-151-14-0-24",
      ].sort(),
    );
    expect(after.resources.filter((r) => r.type === AWS_TYPES.networkAclRule).map((r) => r.inputs.ruleNumber)).toEqual([
      201, 201, 201, 201,
    ]);
    // The remaining analyses judge a different network, so they run again.
    expect([...triggerOf(after)][0]).not.toBe([...triggerOf(before)][0]);
  });

  it("changing the secondary replaces only the secondary's rules, deleting each NACL entry first", async () => {
    const after = await runUnderMocks(
      config({ ...BASE, sites: { ...BOTH_SITES, secondary: { ...BOTH_SITES.secondary, hosts: ["10.152.14.141", "10.152.14.143"] } } }),
      "prod",
    );
    expect(diff(before, after)).toEqual({
      created: [
        "hkex-sftp-analysis-eni-0a1b2c3d4e5f60789-secondary-10-152-14-143",
        "hkex-sftp-egress-secondary-10-152-14-143",
        "hkex-sftp-path-eni-0a1b2c3d4e5f60789-secondary-10-152-14-143",
      ],
      deleted: [
        "hkex-sftp-analysis-eni-0a1b2c3d4e5f60789-secondary-10-152-14-142",
        "hkex-sftp-egress-secondary-10-152-14-142",
        "hkex-sftp-path-eni-0a1b2c3d4e5f60789-secondary-10-152-14-142",
      ],
      changed: [],
    });
    const port = await runUnderMocks(
      config({ ...BASE, sites: { ...BOTH_SITES, secondary: { ...BOTH_SITES.secondary, port: 18802 } } }),
      "prod",
    );
    const d = diff(before, port);
    expect(d.created).toEqual([]);
    expect(d.deleted).toEqual([]);
    expect(d.changed).toEqual([
      "hkex-sftp-acl-0a1b2c3d4e5f60789-egress-secondary",
      "hkex-sftp-acl-0b1c2d3e4f5a60789-egress-secondary",
      "hkex-sftp-egress-secondary-10-152-14-141",
      "hkex-sftp-egress-secondary-10-152-14-142",
      "hkex-sftp-path-eni-0a1b2c3d4e5f60789-secondary-10-152-14-141",
      "hkex-sftp-path-eni-0a1b2c3d4e5f60789-secondary-10-152-14-142",
    ]);
    const replacedNacl = port.resources.filter((r) => d.changed.includes(r.name) && r.type === AWS_TYPES.networkAclRule);
    expect(replacedNacl.map((r) => [r.inputs.ruleNumber, r.options?.deleteBeforeReplace])).toEqual([
      [201, true],
      [201, true],
    ]);
    expect(new Set(naclKeys(port.resources)).size).toBe(8);
  });

  it("a new route target updates the routes in place and re-runs every analysis", async () => {
    const after = await runUnderMocks(config({ ...BASE, routeTarget: { vpnGatewayId: "vgw-0a1b2c3d4e5f60789" } }), "prod");
    expect(diff(before, after)).toEqual({
      created: [],
      deleted: [],
      changed: ["hkex-sftp-rtb-0a1b2c3d4e5f60789-10-151-14-0-24", "hkex-sftp-rtb-0a1b2c3d4e5f60789-10-152-14-0-24"],
    });
    expect(triggerOf(after).size).toBe(1);
    expect([...triggerOf(after)][0]).not.toBe([...triggerOf(before)][0]);
  });
});

describe("renaming or moving the component", async () => {
  const args = parseStackConfig(config(BASE));
  const declare = (name: string, opts?: pulumi.ComponentResourceOptions) => () => ({ scope: new SftpAccess(name, args, opts).scope });
  const original = await runProgramUnderMocks(declare("hkex-sftp"), { stack: "prod" });
  const childUrns = (run: MockRun) => run.resources.filter((r) => r.custom).map((r) => r.urn);

  it("without aliases would replace every child", async () => {
    const renamed = await runProgramUnderMocks(declare("hkex-prod"), { stack: "prod" });
    const d = diff(original, renamed);
    expect(d.deleted).toHaveLength(childUrns(original).length);
    expect(renamed.resources.every((r) => (r.options?.aliases ?? []).length === 0)).toBe(true);
  });

  it("with an alias on the component, gives each child an alias to the URN it had", async () => {
    const renamed = await runProgramUnderMocks(declare("hkex-prod", { aliases: [{ name: "hkex-sftp" }] }), { stack: "prod" });
    const children = renamed.resources.filter((r) => r.custom);
    expect(children).toHaveLength(childUrns(original).length);
    expect(children.map((r) => r.options?.aliases).sort()).toEqual(
      childUrns(original)
        .map((u) => [u])
        .sort(),
    );
    expect(named(renamed.resources, "hkex-prod-acl-0a1b2c3d4e5f60789-egress-primary").options?.aliases).toEqual([
      "urn:pulumi:prod::hkex-sftp-readiness::hkex:network:SftpAccess$aws:ec2/networkAclRule:NetworkAclRule::hkex-sftp-acl-0a1b2c3d4e5f60789-egress-primary",
    ]);
  });

  it("moved under a parent, gives each child an alias to its URN at the top level", async () => {
    const moved = await runProgramUnderMocks(
      () => {
        const parent = new pulumi.ComponentResource("acme:network:Egress", "egress");
        return { scope: new SftpAccess("hkex-sftp", args, { parent, aliases: [{ parent: pulumi.rootStackResource }] }).scope };
      },
      { stack: "prod" },
    );
    const children = moved.resources.filter((r) => r.custom);
    // The mock monitor qualifies a URN with the parent's own type only; the engine writes the whole chain.
    expect(moved.resources.find((r) => r.type === "hkex:network:SftpAccess")?.urn).toBe(
      "urn:pulumi:prod::hkex-sftp-readiness::acme:network:Egress$hkex:network:SftpAccess::hkex-sftp",
    );
    expect(children.map((r) => r.options?.aliases).sort()).toEqual(
      childUrns(original)
        .map((u) => [u])
        .sort(),
    );
  });
});
