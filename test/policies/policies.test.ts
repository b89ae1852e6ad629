/**
 * The pack's policies on stacks written the way teams write them (the flow
 * corpus, `pulumi stack export` v3 and `pulumi preview --json`): each test
 * asserts the verdict and the hop, rule or resource the violation names.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StackResource } from "../../infra/stackResource";
import { evaluateHkexFlows, fromStateResource } from "../../policies/flows";
import { runPackOffline, type PackConfig, type PackReport } from "../../policies/offline";
import {
  hkexBothSitesCovered,
  hkexPathVerified,
  hkexPolicies,
  hkexRouteTarget,
  naclRuleNumbersUnique,
  reachabilityPathFound,
  sgHkexDescriptions,
  sgHkexPortProtocol,
  vpcNoMixedRules,
} from "../../policies/policies";
import { lambdaProbePlacement } from "../../policies/probePlacement";
import { loadStateDocument } from "../../policies/state";

const CORPUS = "test/fixtures/corpus";

function stackOf(file: string): StackResource[] {
  return loadStateDocument(JSON.parse(readFileSync(file, "utf8")), file).resources;
}

const corpus = (name: string) => stackOf(join(CORPUS, name));
const pack = (name: string, config: PackConfig = {}) => runPackOffline(corpus(name), config);
const lines = (r: PackReport) => r.violations.map((v) => `${v.enforcementLevel} ${v.policy}: ${v.message}`);

describe("policy metadata", () => {
  it("names every policy in kebab case, service first, with a one-sentence fix", () => {
    for (const p of hkexPolicies) {
      expect(p.name).toMatch(/^(ec2|lambda)-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.description).toMatch(/^[A-Z][^.]*(\.\d[^.]*)*[^.]*\.$/);
      expect(p.enforcementLevel).toMatch(/^(advisory|mandatory)$/);
      expect(p.configSchema?.properties.exceptions).toBeDefined();
    }
    expect(new Set(hkexPolicies.map((p) => p.name)).size).toBe(hkexPolicies.length);
  });
});

describe("ordinary VPC stacks pass", () => {
  it.each([
    ["web-tier-and-sftp-client.json", "a web tier with tcp/443 to 0.0.0.0/0, a default route via the internet gateway, the default ACL"],
    ["nacl-100-allow-all.json", "the usual ACL rule #100 allow-all both ways"],
    ["default-route-igw-plus-tgw.json", "0.0.0.0/0 via the internet gateway next to the HKEX ranges via the transit gateway"],
    ["other-groups.json", "other groups with open egress on other instances"],
  ])("%s (%s)", async (file) => {
    const report = await pack(file);
    expect(report.verdict).toBe("pass");
    expect(report.violations).toEqual([]);
  });
});

describe(hkexBothSitesCovered.name, () => {
  it("fails a deny numbered before the allow, naming the rule", async () => {
    const report = await pack("nacl-deny-before-allow.json");
    expect(report.verdict).toBe("fail");
    expect(report.violations.map((v) => [v.policy, v.message.split(". Path:")[0]])).toEqual([
      [
        hkexBothSitesCovered.name,
        "From subnet-044ad91ce03cbc417 (i-0af8844da83147e40), secondary 10.152.14.141:18801 is not reachable: acl-02ca7183df8c5991c #50 deny (sec-private-nacl) tcp/18801 to 10.152.14.141",
      ],
      [
        hkexBothSitesCovered.name,
        "From subnet-044ad91ce03cbc417 (i-0af8844da83147e40), secondary 10.152.14.142:18801 is not reachable: acl-02ca7183df8c5991c #50 deny (sec-private-nacl) tcp/18801 to 10.152.14.142",
      ],
    ]);
    // The trace stops at the hop that breaks.
    expect(report.violations[0]?.message).toMatch(
      /→ \[broken\] acl-02ca7183df8c5991c #50 deny \(sec-private-nacl\) tcp\/18801 to 10\.152\.14\.141$/,
    );
  });

  it("fails the HKEX ranges routed to an internet gateway, at the route", async () => {
    const report = await pack("hkex-via-igw.json");
    expect(report.verdict).toBe("fail");
    expect(report.violations.map((v) => v.policy)).toEqual(Array(4).fill(hkexBothSitesCovered.name));
    expect(report.violations[0]?.message).toContain(
      "primary 10.151.14.141:18801 is not reachable: rtb-048e66232740614db 10.151.14.0/24 via igw-0d22e7e8a5dbf3382: an internet gateway cannot reach HKEX's private addresses",
    );
  });

  it("judges coverage per client scope: two VPCs covering one site each do not add up", async () => {
    const report = await pack("two-vpcs-one-site-each.json");
    expect(report.verdict).toBe("fail");
    expect(report.violations.map((v) => v.message.split(". Path:")[0])).toEqual([
      "From subnet-07abb5d794f300b5d (i-09aae137d3cfa26ab), secondary 10.152.14.141:18801 is not reachable: sg-0c668c89f64acf519: no egress rule allows tcp/18801 to 10.152.14.141",
      "From subnet-07abb5d794f300b5d (i-09aae137d3cfa26ab), secondary 10.152.14.142:18801 is not reachable: sg-0c668c89f64acf519: no egress rule allows tcp/18801 to 10.152.14.142",
      "From subnet-0be176c316a51b2b9 (i-0f3c0b386dc0f6174), primary 10.151.14.141:18801 is not reachable: sg-07bb116a1acec5bb5: no egress rule allows tcp/18801 to 10.151.14.141",
      "From subnet-0be176c316a51b2b9 (i-0f3c0b386dc0f6174), primary 10.151.14.142:18801 is not reachable: sg-07bb116a1acec5bb5: no egress rule allows tcp/18801 to 10.151.14.142",
    ]);
    expect((await pack("two-vpcs-both-sites.json")).violations).toEqual([]);
  });

  it("fails a missing return path at the inbound ACL hop", async () => {
    const report = await pack("missing-return-path.json");
    expect(report.violations[0]?.message).toContain(
      "is not reachable: return acl-02622270791d5dcd4 * deny: no inbound rule allows tcp/1024-65535 from 10.151.14.141",
    );
  });

  it("waives one endpoint with a written reason, and reports the reason", async () => {
    const reason = "Secondary site not contracted until 2025-03 (HKEX e-mail of 2024-10-30).";
    const report = await pack("primary-only.json", {
      [hkexBothSitesCovered.name]: { exceptions: [{ match: "10.152.14.141", reason }] },
    });
    expect(report.violations.map((v) => v.message.split(". Path:")[0])).toEqual([
      "From subnet-04e609500e7e9a358 (i-0d82c654a03676e23), secondary 10.152.14.142:18801 is not reachable: sg-0a2d237e68898492c: no egress rule allows tcp/18801 to 10.152.14.142",
    ]);
    expect(report.exceptions.map((e) => [e.policy, e.message.split(". Path:")[0], e.reason])).toEqual([
      [
        hkexBothSitesCovered.name,
        "From subnet-04e609500e7e9a358 (i-0d82c654a03676e23), secondary 10.152.14.141:18801 is not reachable: sg-0a2d237e68898492c: no egress rule allows tcp/18801 to 10.152.14.141",
        reason,
      ],
    ]);
  });
});

describe(sgHkexPortProtocol.name, () => {
  it("fails a client that can open anything but TCP 18801 toward HKEX, naming the rule that lets it through", async () => {
    const report = await pack("all-ports-to-hkex.json");
    expect(lines(report)).toEqual([
      `mandatory ${sgHkexPortProtocol.name}: From subnet-091ed0356ae1b3b4d (i-0a5044c1f45277fce), sg-0582877dc5d783ff1 inline egress[0] (all traffic to 10.151.14.0/24) lets icmp, tcp/0-18800, tcp/18802-65535, udp/all ports, other protocols through to 10.151.14.0/24 (acl-0742433d8e78b5f1f #100 allow; rtb-0e1b0e18e2c97358c 10.151.14.0/24 via tgw-0f1e2d3c4b5a69788); only TCP 18801 may reach HKEX. Narrow the rule, or deny the rest toward 10.151.14.0/24 in the network ACL.`,
      `mandatory ${sgHkexPortProtocol.name}: From subnet-091ed0356ae1b3b4d (i-0a5044c1f45277fce), sg-0582877dc5d783ff1 inline egress[0] (all traffic to 10.152.14.0/24) lets icmp, tcp/0-18800, tcp/18802-65535, udp/all ports, other protocols through to 10.152.14.0/24 (acl-0742433d8e78b5f1f #100 allow; rtb-0e1b0e18e2c97358c 10.152.14.0/24 via tgw-0f1e2d3c4b5a69788); only TCP 18801 may reach HKEX. Narrow the rule, or deny the rest toward 10.152.14.0/24 in the network ACL.`,
    ]);
  });

  it("passes a broad baseline group when the ACL denies the rest toward HKEX before its allow-all", async () => {
    expect((await pack("baseline-443-fenced-by-nacl.json")).violations).toEqual([]);
  });
});

describe(naclRuleNumbersUnique.name, () => {
  it("fails two component instances writing the same numbers into one ACL", async () => {
    const report = await pack("nacl-number-clash-two-components.json");
    expect(report.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policy}: ${v.message}`)[0]).toBe(
      `${naclRuleNumbersUnique.name}: Network ACL acl-0c5e3d27d36a1bee5 egress rule #200 is claimed 2 times (hkex-sftp-nacl-egress-primary, hkex-sftp-uat-nacl-egress-primary); AWS keeps one rule per number and direction, so the update fails or one rule replaces the other.`,
    );
  });

  it("fails a preview whose new rule takes a number an existing rule holds", async () => {
    const report = await pack("nacl-number-clash-existing.preview.json");
    expect(lines(report)).toEqual([
      `mandatory ${naclRuleNumbersUnique.name}: Network ACL acl-0d4d45891d5fb39fd egress rule #200 is claimed 2 times (edge-sftp-primary-out, an existing rule read back from AWS); AWS keeps one rule per number and direction, so the update fails or one rule replaces the other.`,
    ]);
  });
});

describe(vpcNoMixedRules.name, () => {
  it("fails inline egress mixed with rule resources on the client's group", async () => {
    const report = await pack("inline-and-standalone-mix.json");
    expect(lines(report)).toEqual([
      `mandatory ${vpcNoMixedRules.name}: mx-sftp manages its egress rules inline (2 inline block(s)) and mx-sftp-egress-secondary-10-152-14-141, mx-sftp-egress-secondary-10-152-14-142 add egress rules to it as separate resources; the provider overwrites one with the other; the HKEX client's flows depend on it.`,
    ]);
  });
});

describe("advisory findings", () => {
  it(`${hkexRouteTarget.name}: a NAT gateway target passes with an advisory naming it`, async () => {
    const report = await pack("nat-gateway-target.json");
    expect(report.verdict).toBe("pass");
    expect(report.violations.map((v) => [v.enforcementLevel, v.policy])).toEqual([
      ["advisory", hkexRouteTarget.name],
      ["advisory", hkexRouteTarget.name],
    ]);
    expect(report.violations[0]?.message).toContain("rtb-08b3cc766b7bd50c3 10.151.14.0/24 via nat-0735653f59f2f3784: a NAT gateway");
  });

  it(`${hkexPathVerified.name}: a group attached to nothing, and an ACL and tables outside the stack, are named, never passed silently`, async () => {
    const report = await pack("kit-component.json");
    expect(report.verdict).toBe("pass");
    expect(lines(report)).toEqual([
      `advisory ${hkexPathVerified.name}: Security group sg-0715aa90238933560 carries HKEX rules and is attached to no interface or instance in the stack: the subnet, network ACL and route table of its client could not be verified, and it was evaluated with the network ACLs and route tables the stack writes HKEX entries into. Attach it to the client's interfaces in the stack (attach.networkInterfaceIds), or declare the client scope (subnetIds) in the component or the pack config.`,
      `advisory ${hkexPathVerified.name}: Network ACL acl-0e2d4c6b8a9f13570 is not in the stack: only the 4 rule(s) this stack adds to it were evaluated; a lower-numbered rule already in it could deny the flow or its reply.`,
      `advisory ${hkexPathVerified.name}: Route table rtb-0b7d9f1e3c5a24680 is not in the stack: only the 2 route(s) this stack adds to it were evaluated; a more specific route already in it could send HKEX traffic another way.`,
      `advisory ${hkexPathVerified.name}: Route table rtb-0c8e0a2f4d6b35791 is not in the stack: only the 2 route(s) this stack adds to it were evaluated; a more specific route already in it could send HKEX traffic another way.`,
    ]);
  });

  it("a client scope in pack config places the unattached group in its subnet", async () => {
    const scope = { subnetIds: ["subnet-0a2b4c6d8e0f13579"] };
    const config = Object.fromEntries(
      hkexPolicies
        .filter((p) => p !== sgHkexDescriptions && p !== reachabilityPathFound && p !== lambdaProbePlacement)
        .map((p) => [p.name, { scope }]),
    );
    const report = await pack("kit-component.json", config);
    expect(report.verdict).toBe("pass");
    expect(report.violations.map((v) => v.message)).toContainEqual(
      expect.stringContaining("and it was evaluated in the declared client scope"),
    );
    // The subnet is outside the stack and nothing names its ACL or table: the hops are unverified, said once each.
    expect(report.violations.some((v) => v.message.includes("subnet subnet-0a2b4c6d8e0f13579 is not in the stack"))).toBe(true);
  });

  it(`${sgHkexDescriptions.name}: an HKEX rule without a description, not a web tier's`, async () => {
    const stack = corpus("web-tier-and-sftp-client.json").map((r) =>
      r.type.endsWith(":SecurityGroupEgressRule")
        ? { ...r, inputs: { ...r.inputs, description: undefined }, outputs: { ...r.outputs, description: "" } }
        : r,
    );
    const report = await runPackOffline(stack, {}, [sgHkexDescriptions]);
    expect(report.verdict).toBe("pass");
    const messages = report.violations.map((v) => v.message);
    expect(messages).toHaveLength(4);
    expect(
      messages.every((m) =>
        / \(tcp\/18801 to 10\.15[12]\.14\.14[12]\/32\) has no description; name the HKEX site and host it serves\.$/.test(m),
      ),
    ).toBe(true);
  });
});

describe(reachabilityPathFound.name, () => {
  it("fails each endpoint whose analysis in the live state found no path, with its explanation codes", async () => {
    const report = await runPackOffline(stackOf("test/fixtures/state/export-reachability-no-path.json"));
    expect(report.verdict).toBe("fail");
    expect(lines(report)).toEqual([
      `mandatory ${reachabilityPathFound.name}: Reachability Analyzer found no path from eni-0d8566807b75b2668 to secondary 10.152.14.141:18801 (analysis nia-0d4c6b8a0f2e35794, pathFound: false): explanation codes CANNOT_ROUTE.`,
      `mandatory ${reachabilityPathFound.name}: Reachability Analyzer found no path from eni-0d8566807b75b2668 to secondary 10.152.14.142:18801 (analysis nia-0c5b7a9f1e3d46805, pathFound: false): explanation codes CANNOT_ROUTE.`,
    ]);
  });
});

describe("every flow finding is reported once, by one policy at its level", () => {
  const files = readdirSync(CORPUS).filter((f) => f.endsWith(".json"));
  it.each(files)("%s", async (file) => {
    const evaluation = evaluateHkexFlows(corpus(file).map(fromStateResource));
    const report = await runPackOffline(corpus(file), {}, [
      hkexBothSitesCovered,
      sgHkexPortProtocol,
      naclRuleNumbersUnique,
      vpcNoMixedRules,
      hkexRouteTarget,
      hkexPathVerified,
    ]);
    expect(report.verdict).toBe(evaluation.verdict);
    expect(report.violations.map((v) => [v.enforcementLevel, v.message]).sort()).toEqual(
      evaluation.findings.map((f) => [f.level, f.message]).sort(),
    );
  });
});
