/**
 * The network model: how resources link up when ids are known, unknown
 * (preview) or outside the stack, what the provider reads back, and what
 * the provider documents as conflicting.
 */
import { describe, expect, it } from "vitest";
import { buildNetworkModel, fromPolicyResource, fromStateResource } from "../../../policies/flows";
import { type Link, isResolved, ownIdOf } from "../../../policies/flows/network";
import { aclOfSubnet, tableOfSubnet } from "../../../policies/flows/scope";
import { T, UNKNOWN_ID, privateClient, res, urnOf } from "./stack";

const keysOf = (links: readonly Link[]) => links.map((l) => (isResolved(l) ? l : "unresolved"));

describe("resource shapes", () => {
  it("overlays known outputs on the inputs, but an unknown output never hides a known input", () => {
    const r = fromStateResource({
      type: T.egressRule,
      urn: urnOf(T.egressRule, "r"),
      name: "r",
      inputs: { securityGroupId: "sg-0a1b2c3d4e5f67890", cidrIpv4: "10.151.14.141/32" },
      outputs: { securityGroupId: UNKNOWN_ID, arn: "arn:aws:ec2:ap-east-1:123456789012:security-group-rule/sgr-0123456789abcdef0" },
    });
    expect(r.props).toMatchObject({ securityGroupId: "sg-0a1b2c3d4e5f67890", cidrIpv4: "10.151.14.141/32" });
    expect(ownIdOf(r)).toBe("sgr-0123456789abcdef0");
    expect(r.inputs).toEqual({ securityGroupId: "sg-0a1b2c3d4e5f67890", cidrIpv4: "10.151.14.141/32" });
  });

  it("reads the policy SDK's resources: dependencies as resources, unknown values as a throwing getter", () => {
    const group = res(T.securityGroup, "g", {});
    const props: Record<string, unknown> = { securityGroupId: UNKNOWN_ID, ipProtocol: "tcp", fromPort: 18801, toPort: 18801 };
    Object.defineProperty(props, "cidrIpv4", {
      enumerable: true,
      get() {
        const err = new Error("unknown");
        err.name = "UnknownValueError";
        throw err;
      },
    });
    const rule = fromPolicyResource({
      type: T.egressRule,
      urn: urnOf(T.egressRule, "r"),
      name: "r",
      props,
      propertyDependencies: { securityGroupId: [{ urn: group.urn }] },
    });
    const model = buildNetworkModel([group, rule]);
    const rules = model.groups.get(group.urn)!.rules;
    expect(rules).toHaveLength(1);
    expect(rules[0]?.dest).toEqual({ kind: "unknown", text: "cidrIpv4 (known after apply)" });
  });
});

describe("links", () => {
  it("follows a known id to the resource of the stack, found by its id or the tail of its ARN", () => {
    const group = res(T.securityGroup, "g", { arn: "arn:aws:ec2:ap-east-1:123456789012:security-group/sg-0a1b2c3d4e5f67890" });
    const rule = res(T.egressRule, "r", {
      securityGroupId: "sg-0a1b2c3d4e5f67890",
      ipProtocol: "tcp",
      fromPort: 18801,
      toPort: 18801,
      cidrIpv4: "10.151.14.141/32",
    });
    const model = buildNetworkModel([group, rule]);
    expect(model.groups.get(group.urn)!.rules.map((r) => r.label)).toEqual(["r"]);
    expect(model.issues).toEqual([]);
  });

  it("keeps an id that matches nothing as an entity outside the stack, holding what the stack adds", () => {
    const rule = res(T.networkAclRule, "r", {
      networkAclId: "acl-0e2d4c6b8a9f13570",
      ruleNumber: 200,
      egress: true,
      protocol: "6",
      ruleAction: "allow",
      cidrBlock: "10.151.14.0/24",
      fromPort: 18801,
      toPort: 18801,
    });
    const acl = buildNetworkModel([rule]).acls.get("id:acl-0e2d4c6b8a9f13570")!;
    expect(acl).toMatchObject({ origin: "outside", kind: "outside", id: "acl-0e2d4c6b8a9f13570" });
    expect(acl.rules.map((r) => [r.number, r.protocol, r.action])).toEqual([[200, 6, "allow"]]);
  });

  it("resolves an id not known until apply through the property's one dependency", () => {
    const group = res(T.securityGroup, "g", {});
    const rule = res(
      T.egressRule,
      "r",
      { securityGroupId: UNKNOWN_ID, ipProtocol: "tcp", fromPort: 18801, toPort: 18801, cidrIpv4: "10.151.14.141/32" },
      { deps: { securityGroupId: [group.urn] } },
    );
    const model = buildNetworkModel([group, rule]);
    expect(model.groups.get(group.urn)!.rules).toHaveLength(1);
    expect(model.issues).toEqual([]);
  });

  it("leaves it unresolved, and says why, when there is no dependency or more than one candidate", () => {
    const a = res(T.securityGroup, "a", {});
    const b = res(T.securityGroup, "b", {});
    const none = res(T.egressRule, "none", { securityGroupId: UNKNOWN_ID, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
    const two = res(
      T.egressRule,
      "two",
      { securityGroupId: UNKNOWN_ID, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" },
      { deps: { securityGroupId: [a.urn, b.urn] } },
    );
    const model = buildNetworkModel([a, b, none, two]);
    expect(model.issues.map((i) => i.message)).toEqual([
      "none.securityGroupId is not known until the update runs and depends on no group of the stack",
      "two.securityGroupId is not known until the update runs and could be any of 2 resources it depends on",
    ]);
    expect([...model.groups.values()].every((g) => g.rules.length === 0)).toBe(true);
  });

  it("gives the unknown elements of a list the dependencies no known element names", () => {
    const known = res(T.securityGroup, "known", {}, { id: "sg-0a1b2c3d4e5f67890" });
    const created = res(T.securityGroup, "created", {});
    const box = res(
      T.instance,
      "box",
      { vpcSecurityGroupIds: ["sg-0a1b2c3d4e5f67890", UNKNOWN_ID] },
      { deps: { vpcSecurityGroupIds: [known.urn, created.urn] } },
    );
    const model = buildNetworkModel([known, created, box]);
    expect(keysOf(model.attachments.get(box.urn)!.groups)).toEqual([known.urn, created.urn]);
    const whole = res(T.instance, "whole", { vpcSecurityGroupIds: UNKNOWN_ID }, { deps: { vpcSecurityGroupIds: [created.urn] } });
    expect(keysOf(buildNetworkModel([created, whole]).attachments.get(whole.urn)!.groups)).toEqual([created.urn]);
  });

  it("reads a dependency on a VPC, where a table, ACL or group is expected, as the VPC's default", () => {
    const vpc = res(T.vpc, "vpc", { cidrBlock: "10.40.0.0/16" });
    const route = res(
      T.route,
      "r",
      { routeTableId: UNKNOWN_ID, destinationCidrBlock: "10.151.14.0/24", transitGatewayId: "tgw-0f1e2d3c4b5a69788" },
      { deps: { routeTableId: [vpc.urn] } },
    );
    const rule = res(
      T.networkAclRule,
      "n",
      { networkAclId: UNKNOWN_ID, ruleNumber: 90, egress: true, protocol: "-1", ruleAction: "deny", cidrBlock: "10.152.14.0/24" },
      { deps: { networkAclId: [vpc.urn] } },
    );
    const model = buildNetworkModel([vpc, route, rule]);
    const main = model.tables.get(`${vpc.urn}#main-route-table`)!;
    expect(main.routes.map((r) => [r.origin, r.target.kind])).toEqual([
      ["local", "local"],
      ["route", "transit-gateway"],
    ]);
    const acl = model.acls.get(`${vpc.urn}#default-network-acl`)!;
    expect(acl.rules.map((r) => [r.number, r.action, r.origin])).toEqual([
      [100, "allow", "aws-default"],
      [100, "allow", "aws-default"],
      [90, "deny", "rule"],
    ]);
  });

  it("resolves a gateway known only after apply by the resource it depends on", () => {
    const vpc = res(T.vpc, "vpc", { cidrBlock: "10.40.0.0/16" });
    const igw = res(T.internetGateway, "igw", { vpcId: UNKNOWN_ID }, { deps: { vpcId: [vpc.urn] } });
    const route = res(
      T.route,
      "r",
      { routeTableId: UNKNOWN_ID, destinationCidrBlock: "10.151.14.0/24", gatewayId: UNKNOWN_ID },
      { deps: { routeTableId: [vpc.urn], gatewayId: [igw.urn] } },
    );
    const main = buildNetworkModel([vpc, igw, route]).tables.get(`${vpc.urn}#main-route-table`)!;
    expect(main.routes[1]?.target).toEqual({ kind: "internet-gateway", id: "igw" });
  });
});

describe("what AWS adds to a table", () => {
  it("a local route per VPC CIDR, secondary ones included, and the routes a gateway propagates", () => {
    const stack = [
      ...privateClient(),
      res(T.vpcCidrAssociation, "secondary-cidr", { vpcId: "vpc-0a0a0a0a0a0a0a0a0", cidrBlock: "100.64.0.0/16" }),
      res(T.vgwRoutePropagation, "dx", { vpnGatewayId: "vgw-0a9b8c7d6e5f43210", routeTableId: "rtb-0a0a0a0a0a0a0a0a0" }),
    ];
    const table = buildNetworkModel(stack).tables.get(urnOf(T.routeTable, "private-rt"))!;
    expect(table.routes.filter((r) => r.origin === "local").map((r) => (r.dest.kind === "cidr" ? r.dest.block.cidr : ""))).toEqual([
      "10.40.0.0/16",
      "100.64.0.0/16",
    ]);
    expect(table.propagatingVgws).toEqual(["vgw-0a9b8c7d6e5f43210"]);
  });
});

describe("subnets", () => {
  it("use their association, else the VPC's main route table and default ACL", () => {
    const stack = privateClient();
    const model = buildNetworkModel(stack);
    const subnet = urnOf(T.subnet, "private-a");
    expect(tableOfSubnet(model, subnet)).toEqual({ link: urnOf(T.routeTable, "private-rt"), via: "private-a-rt" });
    expect(aclOfSubnet(model, subnet)).toEqual({
      link: `${urnOf(T.vpc, "vpc")}#default-network-acl`,
      via: "the VPC's default network ACL (no explicit association)",
    });
    const unassociated = buildNetworkModel(stack.filter((r) => r.type !== T.routeTableAssociation));
    expect(tableOfSubnet(unassociated, subnet)).toMatchObject({ link: `${urnOf(T.vpc, "vpc")}#main-route-table` });
    const newMain = [
      ...stack.filter((r) => r.type !== T.routeTableAssociation),
      res(T.mainRouteTableAssociation, "main", { vpcId: "vpc-0a0a0a0a0a0a0a0a0", routeTableId: "rtb-0a0a0a0a0a0a0a0a0" }),
    ];
    expect(tableOfSubnet(buildNetworkModel(newMain), subnet)).toMatchObject({ link: urnOf(T.routeTable, "private-rt") });
  });

  it("outside the stack have no visible association unless the stack makes one", () => {
    const model = buildNetworkModel([
      res(T.routeTableAssociation, "a", { routeTableId: "rtb-0a1b2c3d4e5f67890", subnetId: "subnet-0b1b1b1b1b1b1b1b1" }),
    ]);
    expect(tableOfSubnet(model, "id:subnet-0b1b1b1b1b1b1b1b1")).toEqual({ link: "id:rtb-0a1b2c3d4e5f67890", via: "a" });
    expect(aclOfSubnet(model, "id:subnet-0b1b1b1b1b1b1b1b1")).toEqual({
      missing: "subnet subnet-0b1b1b1b1b1b1b1b1 is not in the stack and no network ACL association in the stack names it",
    });
  });
});

describe("read-back and conflicts", () => {
  const groupId = "sg-0a1b2c3d4e5f67890";
  const standalone = res(T.egressRule, "hkex-141", {
    securityGroupId: groupId,
    ipProtocol: "tcp",
    fromPort: 18801,
    toPort: 18801,
    cidrIpv4: "10.151.14.141/32",
  });
  const readBack = (extra: unknown[] = []) => ({
    egress: [
      {
        protocol: "tcp",
        fromPort: 18801,
        toPort: 18801,
        cidrBlocks: ["10.151.14.141/32"],
        ipv6CidrBlocks: [],
        prefixListIds: [],
        securityGroups: [],
        self: false,
      },
      ...extra,
    ],
  });

  it("counts a rule the provider read back into the group once, and keeps one added outside the stack", () => {
    const outside = { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] };
    const group = res(T.securityGroup, "g", readBack([outside]), { id: groupId, inputs: {} });
    const model = buildNetworkModel([group, standalone]);
    expect(model.groups.get(group.urn)!.rules.map((r) => [r.origin, r.label])).toEqual([
      ["rule", "hkex-141"],
      ["read-back", "rule read back from AWS"],
    ]);
    expect(model.issues).toEqual([]);
  });

  it("flags inline rules mixed with rule resources, an explicit empty list included", () => {
    const declared = res(T.securityGroup, "g", readBack(), { id: groupId, inputs: { egress: [] } });
    const [issue] = buildNetworkModel([declared, standalone]).issues;
    expect(issue).toMatchObject({ kind: "conflict", entity: declared.urn });
    expect(issue?.message).toContain("an explicit empty `egress: []`, which removes every egress rule");
    // Without inputs (the policy SDK's props) a block mirroring a rule resource is its read-back.
    const propsOnly = res(T.securityGroup, "g", readBack(), { id: groupId });
    expect(buildNetworkModel([propsOnly, standalone]).issues).toEqual([]);
  });

  it("flags rule resources on an adopted default ACL or group, whose inline rules are absolute", () => {
    const acl = res(
      T.defaultNetworkAcl,
      "default",
      { defaultNetworkAclId: "acl-0d0d0d0d0d0d0d0d0", egress: [], ingress: [] },
      { id: "acl-0d0d0d0d0d0d0d0d0" },
    );
    const rule = res(T.networkAclRule, "r", {
      networkAclId: "acl-0d0d0d0d0d0d0d0d0",
      ruleNumber: 200,
      egress: true,
      protocol: "tcp",
      ruleAction: "allow",
      cidrBlock: "10.151.14.0/24",
      fromPort: 18801,
      toPort: 18801,
    });
    expect(buildNetworkModel([acl, rule]).issues.map((i) => i.message)).toEqual([
      "default is a DefaultNetworkAcl, whose inline rules are absolute; the provider documents it as incompatible with NetworkAclRule resources, yet r add rules to it",
    ]);
  });
});

describe("rule-number clashes", () => {
  const rule = (name: string, n: number, egress = true) =>
    res(T.networkAclRule, name, {
      networkAclId: "acl-0e2d4c6b8a9f13570",
      ruleNumber: n,
      egress,
      protocol: "tcp",
      ruleAction: "allow",
      cidrBlock: "10.151.14.0/24",
      fromPort: 18801,
      toPort: 18801,
    });

  it("are one number claimed twice in one direction of one ACL", () => {
    const issues = buildNetworkModel([rule("a", 200), rule("b", 200), rule("c", 200, false), rule("d", 201)]).issues;
    expect(issues.map((i) => i.message)).toEqual([
      "Network ACL acl-0e2d4c6b8a9f13570 egress rule #200 is claimed 2 times (a, b); AWS keeps one rule per number and direction, so the update fails or one rule replaces the other",
    ]);
  });

  it("include the numbers the stack config lists as taken", () => {
    const issues = buildNetworkModel([rule("a", 100), rule("b", 200)], {
      naclRuleNumbersInUse: { "acl-0e2d4c6b8a9f13570": [100, 32766] },
    }).issues;
    expect(issues.map((i) => i.message)).toEqual([
      "Network ACL acl-0e2d4c6b8a9f13570 egress rule #100 is claimed 2 times (a, a rule listed in naclRuleNumbersInUse); AWS keeps one rule per number and direction, so the update fails or one rule replaces the other",
    ]);
  });
});
