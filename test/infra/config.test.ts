import { describe, expect, it } from "vitest";
import { HKEX_SITES } from "../../catalogue";
import { InputError, type InputProblem } from "../../core/errors";
import { naclRulePlan, parseStackConfig, validateSftpAccessArgs } from "../../infra/config";

const NS = "hkex-sftp-readiness";
const VPC = "vpc-0a1b2c3d4e5f60789";
const TGW = "tgw-0a1b2c3d4e5f60789";
const RTB = "rtb-0a1b2c3d4e5f60789";
const ACL = "acl-0a1b2c3d4e5f60789";

/** Config as Pulumi hands it to a program: namespaced keys, structured values as JSON text. */
function config(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k.includes(":") ? k : `${NS}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

function problemsOf(values: Record<string, unknown>): InputProblem[] {
  try {
    parseStackConfig(config(values));
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return [...(err as InputError).problems];
  }
  throw new Error("expected the config to be rejected");
}

const base = { vpcId: VPC };

describe("parseStackConfig: normalisation", () => {
  it("fills in defaults and the catalogue's sites", () => {
    const args = parseStackConfig(config({ ...base, "aws:region": "ap-east-1" }));
    expect(args).toMatchObject({
      vpcId: VPC,
      networkAclIds: [],
      naclRuleNumberBase: 200,
      routeTableIds: [],
      routeTarget: undefined,
      routeGranularity: "range",
      maxPrefixLength: 24,
      reachability: undefined,
    });
    expect(args.sites).toEqual([HKEX_SITES.primary, HKEX_SITES.secondary].map((s) => ({ ...s })));
  });

  it("reads numbers given as text, as `pulumi config set` stores them", () => {
    const args = parseStackConfig(config({ ...base, naclRuleNumberBase: "300", maxPrefixLength: "22" }));
    expect(args.naclRuleNumberBase).toBe(300);
    expect(args.maxPrefixLength).toBe(22);
  });

  it("keeps one route target kind and the reachability settings", () => {
    const args = parseStackConfig(
      config({
        ...base,
        routeTableIds: [RTB],
        routeTarget: { vpnGatewayId: "vgw-0a1b2c3d4e5f60789" },
        attach: { networkInterfaceIds: ["eni-0a1b2c3d4e5f60789"] },
        reachability: { sourceIds: ["i-0a1b2c3d4e5f60789"] },
      }),
    );
    expect(args.routeTarget).toEqual({ kind: "vpnGatewayId", id: "vgw-0a1b2c3d4e5f60789" });
    expect(args.attach).toEqual({ networkInterfaceIds: ["eni-0a1b2c3d4e5f60789"] });
    // Analyses run unless switched off.
    expect(args.reachability).toEqual({ sourceIds: ["i-0a1b2c3d4e5f60789"], analyze: true });
  });

  it("accepts a sites override that leaves a site out (the policy pack, not config, rejects it)", () => {
    const args = parseStackConfig(config({ ...base, sites: { primary: { hosts: ["10.151.14.141"], range: "10.151.14.0/24" } } }));
    expect(args.sites).toEqual([
      { name: "primary", dataCentre: "Primary Data Centre", hosts: ["10.151.14.141"], port: 18801, range: "10.151.14.0/24" },
    ]);
  });
});

describe("parseStackConfig: every problem names its config key", () => {
  it("no security group target", () => {
    expect(problemsOf({})).toEqual([
      {
        path: `${NS}:vpcId`,
        message: "give exactly one of vpcId (a new security group in that VPC) or securityGroupId (an existing group); got neither",
      },
    ]);
  });

  it("both vpcId and securityGroupId", () => {
    expect(problemsOf({ ...base, securityGroupId: "sg-0fedcba9876543210" })[0]?.message).toContain("got both");
  });

  it("route tables without a target", () => {
    expect(problemsOf({ ...base, routeTableIds: [RTB] })).toEqual([
      {
        path: `${NS}:routeTarget`,
        message:
          "give exactly one of transitGatewayId, vpnGatewayId, coreNetworkArn, natGatewayId, networkInterfaceId; routeTableIds are set but no route target is",
      },
    ]);
  });

  it("two target kinds", () => {
    expect(
      problemsOf({ ...base, routeTableIds: [RTB], routeTarget: { transitGatewayId: TGW, vpnGatewayId: "vgw-0a1b2c3d4e5f60789" } }),
    ).toEqual([
      {
        path: `${NS}:routeTarget`,
        message:
          "give exactly one of transitGatewayId, vpnGatewayId, coreNetworkArn, natGatewayId, networkInterfaceId; got transitGatewayId and vpnGatewayId",
      },
    ]);
  });

  it("a target id of the wrong kind", () => {
    expect(problemsOf({ ...base, routeTableIds: [RTB], routeTarget: { transitGatewayId: "vgw-0a1b2c3d4e5f60789" } })).toContainEqual({
      path: `${NS}:routeTarget.transitGatewayId`,
      message: "must be a transit gateway id like tgw-0123456789abcdef0",
    });
    expect(problemsOf({ ...base, routeTableIds: [RTB], routeTarget: { coreNetworkArn: "core-network-0a1b2c3d4e5f60789" } })).toContainEqual(
      {
        path: `${NS}:routeTarget.coreNetworkArn`,
        message:
          "must be a Cloud WAN core network id like arn:aws:networkmanager::123456789012:core-network/core-network-0123456789abcdef0",
      },
    );
  });

  it("accepts a Cloud WAN core network as it accepts a transit or virtual private gateway", () => {
    const arn = "arn:aws:networkmanager::123456789012:core-network/core-network-0a1b2c3d4e5f60789";
    expect(parseStackConfig(config({ ...base, routeTableIds: [RTB], routeTarget: { coreNetworkArn: arn } })).routeTarget).toEqual({
      kind: "coreNetworkArn",
      id: arn,
    });
  });

  it("refuses VPC peering, explaining that peering is not transitive", () => {
    const problems = problemsOf({ ...base, routeTableIds: [RTB], routeTarget: { vpcPeeringConnectionId: "pcx-0a1b2c3d4e5f60789" } });
    expect(problems.map((p) => p.path)).toEqual([`${NS}:routeTarget.vpcPeeringConnectionId`, `${NS}:routeTarget`]);
    expect(problems[0]?.message).toMatch(
      /^is refused: VPC peering is not transitive: AWS does not forward traffic that arrives over a peering connection/,
    );
    expect(problems[0]?.message).toContain("(no edge-to-edge routing)");
    expect(problems[0]?.message).toContain(
      "https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html#vpc-peering-limitations",
    );
  });

  it("accepts a NAT gateway or an appliance ENI only with allowIndirectTarget and a reason", () => {
    for (const target of [{ natGatewayId: "nat-0a1b2c3d4e5f60789" }, { networkInterfaceId: "eni-0b1c2d3e4f5a60789" }]) {
      const [problem, ...rest] = problemsOf({ ...base, routeTableIds: [RTB], routeTarget: target });
      expect(rest).toEqual([]);
      expect(problem?.path).toBe(`${NS}:routeTarget.allowIndirectTarget`);
      expect(problem?.message).toContain("reaches HKEX only indirectly");
      expect(problem?.message).toContain("HKEX sees that device's address");
      expect(problem?.message).toContain('Set allowIndirectTarget: { reason: "..." }');
    }
    expect(
      problemsOf({
        ...base,
        routeTableIds: [RTB],
        routeTarget: { natGatewayId: "nat-0a1b2c3d4e5f60789", allowIndirectTarget: { reason: " " } },
      }),
    ).toEqual([{ path: `${NS}:routeTarget.allowIndirectTarget.reason`, message: "must say why, in words" }]);
    const reason = "Private NAT 10.20.0.5 is the address registered with HKEX (form HK-2024-118)";
    expect(
      parseStackConfig(
        config({ ...base, routeTableIds: [RTB], routeTarget: { natGatewayId: "nat-0a1b2c3d4e5f60789", allowIndirectTarget: { reason } } }),
      ).routeTarget,
    ).toEqual({ kind: "natGatewayId", id: "nat-0a1b2c3d4e5f60789", allowIndirectTarget: { reason } });
  });

  it("a VPC CIDR that overlaps an HKEX range", () => {
    expect(problemsOf({ ...base, vpcCidrBlocks: ["10.20.0.0/16", "10.144.0.0/12", "10.152.14.128/25", "10.1/16"] })).toEqual([
      {
        path: `${NS}:vpcCidrBlocks[1]`,
        message:
          "10.144.0.0/12 overlaps the HKEX range 10.151.14.0/24 (primary) and 10.152.14.0/24 (secondary): traffic to HKEX would stay inside the VPC",
      },
      {
        path: `${NS}:vpcCidrBlocks[2]`,
        message: "10.152.14.128/25 overlaps the HKEX range 10.152.14.0/24 (secondary): traffic to HKEX would stay inside the VPC",
      },
      { path: `${NS}:vpcCidrBlocks[3]`, message: '"10.1/16" is not an IPv4 CIDR: "10.1" is not an IPv4 address' },
    ]);
    expect(parseStackConfig(config({ ...base, vpcCidrBlocks: ["10.20.0.0/16"] })).vpcCidrBlocks).toEqual(["10.20.0.0/16"]);
  });

  it("attachments, exceptions and reachability sources that do not fit", () => {
    expect(
      problemsOf({
        ...base,
        attach: { networkInterfaceIds: ["eni-0a1b2c3d4e5f60789", "eni-0a1b2c3d4e5f60789"] },
        securityGroupRuleExceptions: [{ match: "sgr-0a1b2c3d4e5f60789", reason: "proxy" }],
      }),
    ).toEqual([
      { path: `${NS}:securityGroupRuleExceptions`, message: "waives rules of an existing group; it applies only with securityGroupId" },
      { path: `${NS}:attach.networkInterfaceIds`, message: "lists eni-0a1b2c3d4e5f60789 more than once" },
    ]);
    expect(problemsOf({ ...base, reachability: { analyze: true } })).toEqual([
      {
        path: `${NS}:reachability`,
        message: `has no source: list the client ENIs in ${NS}:attach.networkInterfaceIds, or give reachability.sourceIds`,
      },
    ]);
    // A malformed attach list is reported once, not again as a reachability without sources.
    expect(problemsOf({ ...base, attach: { networkInterfaceIds: ["i-0a1b2c3d4e5f60789"] }, reachability: {} })).toEqual([
      { path: `${NS}:attach.networkInterfaceIds[0]`, message: "must be an AWS id like eni-0123456789abcdef0" },
    ]);
    expect(
      problemsOf({
        securityGroupId: "sg-0fedcba9876543210",
        securityGroupRuleExceptions: [{ match: "sgr-0a1b2c3d4e5f60789", reason: "" }],
      }),
    ).toEqual([{ path: `${NS}:securityGroupRuleExceptions[0].reason`, message: "must say why, in words" }]);
  });

  it("an unknown target kind", () => {
    expect(problemsOf({ ...base, routeTableIds: [RTB], routeTarget: { gatewayId: "igw-0a1b2c3d4e5f60789" } })).toContainEqual({
      path: `${NS}:routeTarget.gatewayId`,
      message: "is not a known setting",
    });
  });

  it("a site the catalogue does not have", () => {
    expect(problemsOf({ ...base, sites: { tertiary: { hosts: ["10.153.14.141"], range: "10.153.14.0/24" } } })).toEqual([
      { path: `${NS}:sites.tertiary`, message: "is not a known setting" },
    ]);
  });

  it("duplicate route tables and NACLs", () => {
    expect(problemsOf({ ...base, routeTableIds: [RTB, RTB], routeTarget: { transitGatewayId: TGW }, networkAclIds: [ACL, ACL] })).toEqual([
      { path: `${NS}:routeTableIds`, message: `lists ${RTB} more than once` },
      { path: `${NS}:networkAclIds`, message: `lists ${ACL} more than once` },
    ]);
  });

  it("a bad IP address", () => {
    expect(problemsOf({ ...base, sites: { primary: { hosts: ["10.151.14.300"], range: "10.151.14.0/24" } } })).toEqual([
      { path: `${NS}:sites.primary.hosts[0]`, message: '"10.151.14.300" is not an IPv4 address' },
    ]);
  });

  it("a bad CIDR", () => {
    expect(problemsOf({ ...base, sites: { primary: { hosts: ["10.151.14.141"], range: "10.151.14.141/24" } } })).toEqual([
      { path: `${NS}:sites.primary.range`, message: '"10.151.14.141/24" has host bits set; the network is 10.151.14.0/24' },
    ]);
  });

  it("a host outside its site's range", () => {
    expect(problemsOf({ ...base, sites: { secondary: { hosts: ["10.151.14.141"], range: "10.152.14.0/24" } } })).toEqual([
      { path: `${NS}:sites.secondary.hosts[0]`, message: "10.151.14.141 is outside the site's range 10.152.14.0/24" },
    ]);
  });

  it("a port out of range", () => {
    expect(problemsOf({ ...base, sites: { primary: { hosts: ["10.151.14.141"], range: "10.151.14.0/24", port: 70000 } } })).toEqual([
      { path: `${NS}:sites.primary.port`, message: "70000 is out of range 1-65535" },
    ]);
    expect(problemsOf({ ...base, sites: { primary: { hosts: ["10.151.14.141"], range: "10.151.14.0/24", port: 0 } } })).toEqual([
      { path: `${NS}:sites.primary.port`, message: "0 is out of range 1-65535" },
    ]);
    expect(problemsOf({ ...base, sites: { primary: { hosts: ["10.151.14.141"], range: "10.151.14.0/24", port: 22.5 } } })).toEqual([
      { path: `${NS}:sites.primary.port`, message: "must be a whole TCP port number" },
    ]);
  });

  it("a range broader than maxPrefixLength", () => {
    expect(problemsOf({ ...base, sites: { primary: { hosts: ["10.151.14.141"], range: "10.151.0.0/16" } } })).toEqual([
      { path: `${NS}:sites.primary.range`, message: "10.151.0.0/16 is broader than maxPrefixLength /24" },
    ]);
    expect(problemsOf({ ...base, maxPrefixLength: 25 })).toEqual([
      { path: `${NS}:sites.primary.range`, message: "10.151.14.0/24 is broader than maxPrefixLength /25" },
      { path: `${NS}:sites.secondary.range`, message: "10.152.14.0/24 is broader than maxPrefixLength /25" },
    ]);
  });

  it("numbers NACL rules by site name, so a stack without the primary keeps the secondary's number", () => {
    const secondaryOnly = parseStackConfig(
      config({ ...base, networkAclIds: [ACL], sites: { secondary: { hosts: ["10.152.14.141"], range: "10.152.14.0/24" } } }),
    );
    expect(naclRulePlan(secondaryOnly).map((p) => [p.site.name, p.ruleNumber])).toEqual([["secondary", 201]]);
    expect(naclRulePlan(parseStackConfig(config(base))).map((p) => [p.site.name, p.ruleNumber])).toEqual([
      ["primary", 200],
      ["secondary", 201],
    ]);
    // Number 100 belongs to the primary, which this stack leaves out.
    const inUse = { ...base, networkAclIds: [ACL], naclRuleNumberBase: 100, naclRuleNumbersInUse: [100] };
    expect(() =>
      parseStackConfig(config({ ...inUse, sites: { secondary: { hosts: ["10.152.14.141"], range: "10.152.14.0/24" } } })),
    ).not.toThrow();
  });

  it("NACL rule numbers that collide with numbers already in use", () => {
    expect(problemsOf({ ...base, networkAclIds: [ACL], naclRuleNumberBase: 100, naclRuleNumbersInUse: [101, 300] })).toEqual([
      {
        path: `${NS}:naclRuleNumberBase`,
        message: "rule numbers 100, 101 collide with 101 listed in naclRuleNumbersInUse; pick another base",
      },
    ]);
  });

  it("NACL rule numbers past the last allowed one", () => {
    expect(problemsOf({ ...base, networkAclIds: [ACL], naclRuleNumberBase: 32766 })).toEqual([
      { path: `${NS}:naclRuleNumberBase`, message: "rules would need numbers up to 32767; the highest allowed is 32766" },
    ]);
    expect(problemsOf({ ...base, naclRuleNumberBase: 0 })).toEqual([
      { path: `${NS}:naclRuleNumberBase`, message: "must be between 1 and 32766" },
    ]);
  });

  it("an unknown key, malformed JSON and a malformed id", () => {
    expect(problemsOf({ ...base, routeTables: [RTB] })[0]).toMatchObject({
      path: `${NS}:routeTables`,
      message: expect.stringMatching(/^is not a known config key/),
    });
    expect(problemsOf({ ...base, [`${NS}:networkAclIds`]: "[acl-1" })).toEqual([
      { path: `${NS}:networkAclIds`, message: "is not valid JSON: [acl-1" },
    ]);
    expect(problemsOf({ vpcId: "vpc-xyz" })).toEqual([{ path: `${NS}:vpcId`, message: "must be an AWS id like vpc-0123456789abcdef0" }]);
  });

  it("reports every problem at once, leaving a malformed key out of the later checks", () => {
    const problems = problemsOf({
      ...base,
      securityGroupId: "sg-0fedcba9876543210",
      routeTableIds: [RTB, RTB],
      networkAclIds: ["acl-xyz"],
      sites: { primary: { hosts: ["10.151.14.300"], range: "10.151.0.0/16", port: 70000 } },
    });
    expect(problems).toEqual([
      { path: `${NS}:networkAclIds[0]`, message: "must be an AWS id like acl-0123456789abcdef0" },
      {
        path: `${NS}:vpcId`,
        message: "give exactly one of vpcId (a new security group in that VPC) or securityGroupId (an existing group); got both",
      },
      {
        path: `${NS}:routeTarget`,
        message:
          "give exactly one of transitGatewayId, vpnGatewayId, coreNetworkArn, natGatewayId, networkInterfaceId; routeTableIds are set but no route target is",
      },
      { path: `${NS}:routeTableIds`, message: `lists ${RTB} more than once` },
      { path: `${NS}:sites.primary.port`, message: "70000 is out of range 1-65535" },
      { path: `${NS}:sites.primary.range`, message: "10.151.0.0/16 is broader than maxPrefixLength /24" },
      { path: `${NS}:sites.primary.hosts[0]`, message: '"10.151.14.300" is not an IPv4 address' },
    ]);
    // A malformed securityGroupId is reported once, not again as "got neither".
    expect(problemsOf({ securityGroupId: "sg-1" })).toEqual([
      { path: `${NS}:securityGroupId`, message: "must be an AWS id like sg-0123456789abcdef0" },
    ]);
  });
});

describe("validateSftpAccessArgs", () => {
  it("is the same check for programmatic callers", () => {
    const args = parseStackConfig(config(base));
    expect(validateSftpAccessArgs(args)).toEqual([]);
    expect(validateSftpAccessArgs({ ...args, routeTableIds: [RTB] })[0]?.path).toBe(`${NS}:routeTarget`);
    expect(validateSftpAccessArgs({ ...args, sites: [] })).toEqual([
      { path: `${NS}:sites`, message: "names no site; give primary and secondary or leave sites unset" },
    ]);
  });
});
