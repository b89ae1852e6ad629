/**
 * Each policy on the happy-path stack, then with one field changed; every
 * failing case asserts the exact violation text.
 */
import { describe, expect, it } from "vitest";
import { SITE_NAMES } from "../../catalogue";
import { AWS_TYPES } from "../../infra/awsTypes";
import type { StackResource } from "../../infra/stackResource";
import { runPackOffline, type PackConfig } from "../../policies/offline";
import {
  hkexBothSitesCovered,
  hkexNarrowPrefixes,
  hkexPolicies,
  naclHkexSymmetric,
  sgHkexDescriptions,
  sgHkexPortProtocol,
  sgNoMixedRules,
  sgNoOpenEgress,
} from "../../policies/policies";
import { ACL_ID, RTB_A, RTB_B, SG_ID, changed, egressRule, goodStack, naclRule, resource, route, securityGroup, without } from "./stack";

type AnyPolicy = (typeof hkexPolicies)[number];

async function messages(policy: AnyPolicy, stack: StackResource[], config: PackConfig = {}): Promise<string[]> {
  const report = await runPackOffline(stack, config, [policy]);
  return report.violations.map((v) => v.message);
}

const P141 = "hkex-sftp-egress-10-151-14-141-32";
const FIX = "egress toward HKEX must allow only TCP port 18801.";

describe("policy metadata", () => {
  it("names every policy in kebab case, service first, with a one-sentence fix", () => {
    for (const p of hkexPolicies) {
      expect(p.name).toMatch(/^ec2-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.description).toMatch(/^[A-Z][^.]*(\.\d[^.]*)*[^.]*\.$/);
      expect(p.enforcementLevel).toMatch(/^(advisory|mandatory)$/);
      expect(p.configSchema?.properties.exceptions).toBeDefined();
    }
    expect(new Set(hkexPolicies.map((p) => p.name)).size).toBe(hkexPolicies.length);
  });

  it("passes the happy-path stack on every policy", async () => {
    const report = await runPackOffline(goodStack());
    expect(report.violations).toEqual([]);
    expect(report.verdict).toBe("pass");
  });
});

describe(sgHkexPortProtocol.name, () => {
  it("fails an all-protocols rule", async () => {
    expect(
      await messages(sgHkexPortProtocol, changed(goodStack(), P141, { ipProtocol: "-1", fromPort: undefined, toPort: undefined })),
    ).toEqual([`Security-group egress to 10.151.14.141/32 allows all protocols; ${FIX}`]);
  });

  it("fails a port range", async () => {
    expect(await messages(sgHkexPortProtocol, changed(goodStack(), P141, { fromPort: 18000, toPort: 19000 }))).toEqual([
      `Security-group egress to 10.151.14.141/32 allows TCP ports 18000-19000; ${FIX}`,
    ]);
  });

  it("fails another port", async () => {
    expect(await messages(sgHkexPortProtocol, changed(goodStack(), P141, { fromPort: 22, toPort: 22 }))).toEqual([
      `Security-group egress to 10.151.14.141/32 allows TCP port 22; ${FIX}`,
    ]);
  });

  it("fails protocol numbers other than TCP's and accepts TCP's", async () => {
    expect(await messages(sgHkexPortProtocol, changed(goodStack(), P141, { ipProtocol: "17" }))).toEqual([
      `Security-group egress to 10.151.14.141/32 allows UDP port 18801; ${FIX}`,
    ]);
    expect(await messages(sgHkexPortProtocol, changed(goodStack(), P141, { ipProtocol: "6" }))).toEqual([]);
  });

  it("fails inline egress blocks and legacy SecurityGroupRule resources alike", async () => {
    const stack = [
      ...goodStack(),
      resource(AWS_TYPES.securityGroup, "legacy-sg", {
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.152.14.0/24"], description: "old" }],
      }),
      resource(AWS_TYPES.securityGroupRule, "legacy-rule", {
        type: "egress",
        securityGroupId: SG_ID,
        protocol: "tcp",
        fromPort: 1,
        toPort: 65535,
        cidrBlocks: ["10.151.14.142/32"],
        description: "old",
      }),
    ];
    expect(await messages(sgHkexPortProtocol, stack)).toEqual([
      `Inline security-group egress to 10.152.14.0/24 allows all protocols; ${FIX}`,
      `Security-group egress to 10.151.14.142/32 allows TCP ports 1-65535; ${FIX}`,
    ]);
  });

  it("fails a broad destination that reaches HKEX, ignores ingress and unrelated egress", async () => {
    const stack = [
      ...goodStack(),
      egressRule("10.0.0.0/8", { fromPort: 443, toPort: 443 }),
      egressRule("192.168.0.0/16", { fromPort: 443, toPort: 443 }),
      resource(AWS_TYPES.securityGroupIngressRule, "from-hkex", { securityGroupId: SG_ID, ipProtocol: "-1", cidrIpv4: "10.151.14.0/24" }),
    ];
    expect(await messages(sgHkexPortProtocol, stack)).toEqual([`Security-group egress to 10.0.0.0/8 allows TCP port 443; ${FIX}`]);
  });
});

describe(sgNoOpenEgress.name, () => {
  it("fails 0.0.0.0/0 and ::/0 on a group that carries HKEX rules", async () => {
    const stack = [
      ...goodStack(),
      egressRule("0.0.0.0/0", { fromPort: 443, toPort: 443 }, "web-out"),
      resource(AWS_TYPES.securityGroupEgressRule, "web-out-v6", {
        securityGroupId: SG_ID,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv6: "::/0",
      }),
    ];
    expect(await messages(sgNoOpenEgress, stack)).toEqual([
      `Security group ${SG_ID} carries HKEX egress rules and also allows egress to 0.0.0.0/0 (web-out); remove that rule so the group reaches only the HKEX endpoints.`,
      `Security group ${SG_ID} carries HKEX egress rules and also allows egress to ::/0 (web-out-v6); remove that rule so the group reaches only the HKEX endpoints.`,
    ]);
  });

  it("fails an open inline block on an HKEX group, found through the group's id", async () => {
    const stack = goodStack().map((r) =>
      r.type === AWS_TYPES.securityGroup
        ? { ...r, outputs: { ...r.outputs, egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] } }
        : r,
    );
    expect(await messages(sgNoOpenEgress, stack)).toEqual([
      `Security group ${SG_ID} carries HKEX egress rules and also allows egress to 0.0.0.0/0 (inline in hkex-sftp-sg); remove that rule so the group reaches only the HKEX endpoints.`,
    ]);
  });

  it("leaves groups without HKEX rules alone", async () => {
    const other = egressRule("0.0.0.0/0", { securityGroupId: "sg-0aaaaaaaaaaaaaaaa" }, "other-out");
    expect(await messages(sgNoOpenEgress, [...goodStack(), other])).toEqual([]);
  });
});

describe(hkexNarrowPrefixes.name, () => {
  it("fails egress, NACL rules and routes broader than /24 toward HKEX", async () => {
    const stack = [
      ...changed(goodStack(), "hkex-sftp-acl-0a1b2c3d4e5f60789-ingress-secondary", { cidrBlock: "10.152.0.0/16" }),
      egressRule("10.151.0.0/16"),
      route(RTB_A, "10.0.0.0/8"),
      route(RTB_A, "172.16.0.0/12"),
    ];
    expect(await messages(hkexNarrowPrefixes, stack)).toEqual([
      "Network ACL ingress rule from 10.152.0.0/16 is a /16 toward HKEX, broader than the allowed /24.",
      "Security-group egress to 10.151.0.0/16 is a /16 toward HKEX, broader than the allowed /24.",
      "Route to 10.0.0.0/8 is a /8 toward HKEX, broader than the allowed /24.",
    ]);
  });

  it("takes the maximum from pack config", async () => {
    const config = { [hkexNarrowPrefixes.name]: { maxPrefixLength: 32 } };
    expect(await messages(hkexNarrowPrefixes, without(goodStack(), "acl-"), config)).toEqual([
      "Route to 10.151.14.0/24 is a /24 toward HKEX, broader than the allowed /32.",
      "Route to 10.152.14.0/24 is a /24 toward HKEX, broader than the allowed /32.",
      "Route to 10.151.14.0/24 is a /24 toward HKEX, broader than the allowed /32.",
      "Route to 10.152.14.0/24 is a /24 toward HKEX, broader than the allowed /32.",
    ]);
  });
});

describe(hkexBothSitesCovered.name, () => {
  const secondaryMissing = "2 of 4 HKEX endpoints: secondary 10.152.14.141:18801, secondary 10.152.14.142:18801";

  it("fails a stack that covers only primary and names the missing endpoints", async () => {
    const stack = without(without(goodStack(), "10-152-14-14"), "10-152-14-0-24");
    expect(await messages(hkexBothSitesCovered, stack)).toEqual([
      `Security-group egress does not cover ${secondaryMissing}; add a TCP egress rule to each.`,
      `Route table ${RTB_A} has no route to ${secondaryMissing}; add a route to each.`,
      `Route table ${RTB_B} has no route to ${secondaryMissing}; add a route to each.`,
    ]);
  });

  it("fails a route table that misses a route", async () => {
    const stack = without(goodStack(), `${RTB_B}-10-151-14-0-24`);
    expect(await messages(hkexBothSitesCovered, stack)).toEqual([
      `Route table ${RTB_B} has no route to 2 of 4 HKEX endpoints: primary 10.151.14.141:18801, primary 10.151.14.142:18801; add a route to each.`,
    ]);
  });

  it("fails a rule on the wrong port for coverage and accepts /32 routes", async () => {
    const stack = changed(
      [
        ...without(goodStack(), `${RTB_B}-`),
        route(RTB_B, "10.151.14.141/32"),
        route(RTB_B, "10.151.14.142/32"),
        route(RTB_B, "10.152.14.0/24"),
      ],
      "hkex-sftp-egress-10-152-14-142-32",
      { fromPort: 22, toPort: 22 },
    );
    expect(await messages(hkexBothSitesCovered, stack)).toEqual([
      "Security-group egress does not cover 1 of 4 HKEX endpoints: secondary 10.152.14.142:18801; add a TCP egress rule to each.",
    ]);
  });

  it("checks the endpoints given in pack config instead of the catalogue", async () => {
    const config = { [hkexBothSitesCovered.name]: { endpoints: [{ site: "secondary", host: "10.152.14.143", port: 18801 }] } };
    expect(await messages(hkexBothSitesCovered, goodStack(), config)).toEqual([
      "Security-group egress does not cover 1 of 1 HKEX endpoints: secondary 10.152.14.143:18801; add a TCP egress rule to each.",
    ]);
  });

  it("fails a stack with no egress at all", async () => {
    expect(await messages(hkexBothSitesCovered, [securityGroup()])).toEqual([
      "Security-group egress does not cover 4 of 4 HKEX endpoints: primary 10.151.14.141:18801, primary 10.151.14.142:18801, secondary 10.152.14.141:18801, secondary 10.152.14.142:18801; add a TCP egress rule to each.",
    ]);
  });
});

describe(naclHkexSymmetric.name, () => {
  it("fails egress without its return rule", async () => {
    expect(await messages(naclHkexSymmetric, without(goodStack(), "ingress-primary"))).toEqual([
      `Network ACL ${ACL_ID} allows egress to 10.151.14.0/24 but no ingress from it on TCP 1024-65535; add the return rule.`,
    ]);
  });

  it("fails ingress without its outbound rule", async () => {
    expect(await messages(naclHkexSymmetric, without(goodStack(), "egress-secondary"))).toEqual([
      `Network ACL ${ACL_ID} allows ingress from 10.152.14.0/24 but no egress to it on TCP 18801; add the outbound rule.`,
    ]);
  });

  it("fails a return rule that misses part of the ephemeral ports", async () => {
    expect(await messages(naclHkexSymmetric, changed(goodStack(), `hkex-sftp-${ACL_ID}-ingress-secondary`, { fromPort: 32768 }))).toEqual([
      `Network ACL ${ACL_ID} allows egress to 10.152.14.0/24 but no ingress from it on TCP 1024-65535; add the return rule.`,
    ]);
  });

  it("reads inline NACL entries too, and passes a stack without NACL rules", async () => {
    const acl = resource(AWS_TYPES.networkAcl, "app-acl", {
      egress: [{ ruleNo: 100, action: "allow", protocol: "tcp", cidrBlock: "10.151.14.0/24", fromPort: 18801, toPort: 18801 }],
      ingress: [],
    });
    expect(await messages(naclHkexSymmetric, [...without(goodStack(), "acl-"), acl])).toEqual([
      "Network ACL app-acl allows egress to 10.151.14.0/24 but no ingress from it on TCP 1024-65535; add the return rule.",
    ]);
    expect(await messages(naclHkexSymmetric, without(goodStack(), "acl-"))).toEqual([]);
    expect(SITE_NAMES).toHaveLength(2);
    expect(naclRule("primary", true).inputs.ruleNumber).toBe(200);
  });
});

describe(sgNoMixedRules.name, () => {
  it("fails a group with both inline rules and rule resources", async () => {
    const ingress = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/16"] }];
    const stack = goodStack().map((r) =>
      r.type === AWS_TYPES.securityGroup ? { ...r, inputs: { ...r.inputs, ingress }, outputs: { ...r.outputs, ingress } } : r,
    );
    expect(await messages(sgNoMixedRules, stack)).toEqual([
      `Security group ${SG_ID} has 1 inline rule(s) and 4 separate rule resource(s); move the inline rules to separate rule resources.`,
    ]);
  });

  it("takes the provider's read-back of standalone rules for what it is", async () => {
    const stack = goodStack().map((r) =>
      r.type === AWS_TYPES.securityGroup
        ? {
            ...r,
            outputs: {
              ...r.outputs,
              egress: [{ protocol: "tcp", fromPort: 18801, toPort: 18801, cidrBlocks: ["10.151.14.141/32"], description: "x" }],
            },
          }
        : r,
    );
    expect(await messages(sgNoMixedRules, stack)).toEqual([]);
  });
});

describe(sgHkexDescriptions.name, () => {
  it("flags rules toward HKEX without a description, as advisory", async () => {
    const stack = [
      ...changed(goodStack(), P141, { description: undefined }),
      egressRule("10.152.14.0/24", { description: "   " }, "blank"),
      egressRule("192.168.1.0/24", { description: undefined, fromPort: 443, toPort: 443 }, "unrelated"),
    ];
    const report = await runPackOffline(stack, {}, [sgHkexDescriptions]);
    expect(report.violations.map((v) => [v.enforcementLevel, v.message])).toEqual([
      ["advisory", "Security-group egress to 10.151.14.141/32 has no description; name the HKEX site and host it serves."],
      ["advisory", "Security-group egress to 10.152.14.0/24 has no description; name the HKEX site and host it serves."],
    ]);
    expect(report.verdict).toBe("pass");
  });
});
