/**
 * The existing-group mode reads the group's live egress rules (the
 * provider's getSecurityGroupRules / getSecurityGroupRule, answered here by
 * the mocks in the shape the provider returns) and stops when one of them
 * lets all traffic or all ports out toward HKEX, unless it is waived.
 */
import { describe, expect, it } from "vitest";
import { HKEX_SITES, SITE_NAMES } from "../../catalogue";
import { AWS_TYPES } from "../../infra/awsTypes";
import { broadEgressRules, type LiveSecurityGroupRule, reviewExistingGroup } from "../../infra/existingGroup";
import { runUnderMocks } from "../../infra/mockRuntime";
import { config, ofType } from "../support/infra";

const SG = "sg-0fedcba9876543210";
const sites = SITE_NAMES.map((s) => HKEX_SITES[s]);

/** A rule as getSecurityGroupRule returns it; AWS reads protocol -1 back with ports -1. */
function rule(id: string, fields: Partial<LiveSecurityGroupRule>): LiveSecurityGroupRule {
  return { securityGroupRuleId: id, securityGroupId: SG, isEgress: true, ipProtocol: "tcp", fromPort: 443, toPort: 443, ...fields };
}

const ALL_OUT = rule("sgr-0a1b2c3d4e5f60781", { ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" });
const ALL_TCP_TO_10 = rule("sgr-0a1b2c3d4e5f60782", { ipProtocol: "tcp", fromPort: 0, toPort: 65535, cidrIpv4: "10.0.0.0/8" });
const WEB = rule("sgr-0a1b2c3d4e5f60783", { cidrIpv4: "0.0.0.0/0" });
const ALL_TO_ELSEWHERE = rule("sgr-0a1b2c3d4e5f60784", { ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "192.168.0.0/16" });
const INBOUND_ALL = rule("sgr-0a1b2c3d4e5f60785", { isEgress: false, ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" });
const TO_PREFIX_LIST = rule("sgr-0a1b2c3d4e5f60786", { ipProtocol: "-1", fromPort: -1, toPort: -1, prefixListId: "pl-0a1b2c3d4e5f60789" });

describe("broadEgressRules", () => {
  it("names all-traffic and all-ports egress toward an HKEX range, 0.0.0.0/0 included", () => {
    expect(broadEgressRules([ALL_OUT, ALL_TCP_TO_10, WEB, ALL_TO_ELSEWHERE, INBOUND_ALL, TO_PREFIX_LIST], sites)).toEqual([
      {
        ruleId: "sgr-0a1b2c3d4e5f60781",
        why: "allows all traffic (protocol -1) to 0.0.0.0/0, which includes the HKEX ranges 10.151.14.0/24 (primary) and 10.152.14.0/24 (secondary)",
      },
      {
        ruleId: "sgr-0a1b2c3d4e5f60782",
        why: "allows all tcp ports (0-65535) to 10.0.0.0/8, which includes the HKEX ranges 10.151.14.0/24 (primary) and 10.152.14.0/24 (secondary)",
      },
    ]);
  });

  it("counts a rule toward one range and ignores ports narrower than all", () => {
    expect(
      broadEgressRules(
        [
          rule("sgr-1", { ipProtocol: "6", fromPort: 1, toPort: 65535, cidrIpv4: "10.152.14.0/25" }),
          rule("sgr-2", { ipProtocol: "udp", fromPort: 1024, toPort: 65535, cidrIpv4: "10.152.14.0/24" }),
        ],
        sites,
      ),
    ).toEqual([
      { ruleId: "sgr-1", why: "allows all 6 ports (1-65535) to 10.152.14.0/25, which includes the HKEX range 10.152.14.0/24 (secondary)" },
    ]);
  });
});

describe("reviewExistingGroup", () => {
  it("fails naming every broad rule, the key to waive it with and its shape", () => {
    expect(() => reviewExistingGroup(SG, [ALL_OUT, ALL_TCP_TO_10, WEB], sites, [])).toThrow(
      [
        `hkex-sftp-readiness:securityGroupId: ${SG} already lets more than TCP 18801 out toward HKEX, so the rules this program adds would prove nothing:`,
        "  rule sgr-0a1b2c3d4e5f60781 allows all traffic (protocol -1) to 0.0.0.0/0, which includes the HKEX ranges 10.151.14.0/24 (primary) and 10.152.14.0/24 (secondary)",
        "  rule sgr-0a1b2c3d4e5f60782 allows all tcp ports (0-65535) to 10.0.0.0/8, which includes the HKEX ranges 10.151.14.0/24 (primary) and 10.152.14.0/24 (secondary)",
        'Narrow or remove those rules, or waive each in hkex-sftp-readiness:securityGroupRuleExceptions with { match: "<rule id>", reason: "<why it is accepted>" }.',
      ].join("\n"),
    );
  });

  it("lets a waived rule through, recording the reason, and lists what it could not check", () => {
    const reason = "Outbound proxy until CHG-1234 moves it to its own group";
    expect(
      reviewExistingGroup(SG, [ALL_OUT, WEB, INBOUND_ALL, TO_PREFIX_LIST], sites, [{ match: ALL_OUT.securityGroupRuleId, reason }]),
    ).toEqual({
      securityGroupId: SG,
      egressRuleIds: ["sgr-0a1b2c3d4e5f60781", "sgr-0a1b2c3d4e5f60783", "sgr-0a1b2c3d4e5f60786"],
      waived: [
        {
          ruleId: "sgr-0a1b2c3d4e5f60781",
          why: "allows all traffic (protocol -1) to 0.0.0.0/0, which includes the HKEX ranges 10.151.14.0/24 (primary) and 10.152.14.0/24 (secondary)",
          reason,
        },
      ],
      notChecked: [{ ruleId: "sgr-0a1b2c3d4e5f60786", why: "destination is prefix list pl-0a1b2c3d4e5f60789" }],
    });
  });
});

describe("SftpAccess on an existing group, under the mocks", () => {
  const stack = {
    securityGroupId: SG,
    routeTableIds: ["rtb-0a1b2c3d4e5f60789"],
    routeTarget: { transitGatewayId: "tgw-0a1b2c3d4e5f60789" },
  };
  const other = rule("sgr-0f0f0f0f0f0f0f0f1", {
    securityGroupId: "sg-0aaaaaaaaaaaaaaa1",
    ipProtocol: "-1",
    fromPort: -1,
    toPort: -1,
    cidrIpv4: "0.0.0.0/0",
  });

  it("stops the run, naming the rule, when the live group allows all traffic out", async () => {
    await expect(runUnderMocks(config(stack), "dev", { securityGroupRules: [WEB, ALL_OUT, other] })).rejects.toThrow(
      /hkex-sftp-readiness:securityGroupId: sg-0fedcba9876543210 already lets more than TCP 18801 out toward HKEX[\s\S]*\n {2}rule sgr-0a1b2c3d4e5f60781 allows all traffic \(protocol -1\) to 0\.0\.0\.0\/0/,
    );
  });

  it("reads only the group's own rules and adds the four when nothing is broad, or the broad rule is waived", async () => {
    const clean = await runUnderMocks(config(stack), "dev", { securityGroupRules: [WEB, other] });
    expect(ofType(clean.resources, AWS_TYPES.securityGroupEgressRule)).toHaveLength(4);
    expect(clean.outputs.existingGroupReview).toEqual({
      securityGroupId: SG,
      egressRuleIds: ["sgr-0a1b2c3d4e5f60783"],
      waived: [],
      notChecked: [],
    });
    const reason = "Outbound proxy until CHG-1234";
    const waived = await runUnderMocks(
      config({ ...stack, securityGroupRuleExceptions: [{ match: ALL_OUT.securityGroupRuleId, reason }] }),
      "dev",
      { securityGroupRules: [ALL_OUT] },
    );
    expect(ofType(waived.resources, AWS_TYPES.securityGroupEgressRule).map((r) => r.inputs.securityGroupId)).toEqual(Array(4).fill(SG));
    expect((waived.outputs.existingGroupReview as { waived: { ruleId: string; reason: string }[] }).waived).toEqual([
      expect.objectContaining({ ruleId: ALL_OUT.securityGroupRuleId, reason }),
    ]);
  });
});
