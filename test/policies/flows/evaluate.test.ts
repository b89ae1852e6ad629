/**
 * The evaluator end to end: the kit's own program under Pulumi's mock
 * runtime, declared scopes, options, and the explanation it gives.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { endpointsOf } from "../../../catalogue";
import { readStackConfigFile } from "../../../cli/commands/plan";
import { runUnderMocks } from "../../../infra/mockRuntime";
import { evaluateHkexFlows, fromStateResource, type FlowEvaluation } from "../../../policies/flows";
import { loadStateDocument } from "../../../policies/state";
import { T, TGW, UNKNOWN_ID, changed, hkexRules, privateClient, res } from "./stack";

const codes = (e: FlowEvaluation) => e.findings.map((f) => `${f.level} ${f.code}`);

describe("the kit's own program, under mocks", async () => {
  const evaluateConfig = async (file: string) => {
    const run = await runUnderMocks(readStackConfigFile(file), "flows");
    return evaluateHkexFlows(run.resources.map(fromStateResource));
  };
  const example = await evaluateConfig("Pulumi.example.yaml");
  const primaryOnly = await evaluateConfig("test/fixtures/stacks/Pulumi.primary-only.yaml");
  const existing = await evaluateConfig("test/fixtures/stacks/Pulumi.existing-sg.yaml");

  it("passes the example stack, placing its group where it writes the NACL rules and routes", () => {
    expect(example.verdict).toBe("pass");
    expect(example.scopes.map((s) => [s.basis, s.networkAcl, s.routeTable])).toEqual([
      ["inferred", "acl-0a1b2c3d4e5f60789", "rtb-0a1b2c3d4e5f60789"],
      ["inferred", "acl-0a1b2c3d4e5f60789", "rtb-0b1c2d3e4f5a60789"],
    ]);
    const path = example.scopes[0]?.paths[3];
    expect(path?.status).toBe("assumed");
    expect(path?.trace).toMatch(
      /egress rule hkex-sftp-egress-secondary-10-152-14-142 allows tcp\/18801 to 10\.152\.14\.142\/32 → \[assumed\] acl-0a1b2c3d4e5f60789 #201 allow → \[assumed\] rtb-0a1b2c3d4e5f60789 10\.152\.14\.0\/24 via tgw-0a1b2c3d4e5f60789 → \[assumed\] return acl-0a1b2c3d4e5f60789 #201 allow$/,
    );
    // The group attached to nothing, the existing ACL and route tables are named as what could not be verified, never passed silently.
    expect(codes(example)).toEqual([
      "advisory flow-unattached-group",
      "advisory flow-outside-stack",
      "advisory flow-outside-stack",
      "advisory flow-outside-stack",
    ]);
    expect(example.findings[0]?.message).toContain("carries HKEX rules and is attached to no interface or instance in the stack");
    expect(example.findings.filter((f) => f.code === "flow-outside-stack").flatMap((f) => f.subjects)).toEqual([
      "acl-0a1b2c3d4e5f60789",
      "rtb-0a1b2c3d4e5f60789",
      "rtb-0b1c2d3e4f5a60789",
    ]);
  });

  it("fails a primary-only stack for each secondary endpoint, at the group", () => {
    expect(primaryOnly.verdict).toBe("fail");
    const broken = primaryOnly.findings.filter((f) => f.code === "flow-path-broken");
    expect(broken.map((f) => f.endpoint?.host)).toEqual(["10.152.14.141", "10.152.14.142"]);
    expect(broken[0]?.message).toContain("no egress rule allows tcp/18801 to 10.152.14.141");
  });

  it("passes a stack on an existing group with no NACLs, saying what it could not verify", () => {
    expect(existing.verdict).toBe("pass");
    const messages = existing.findings.map((f) => f.message);
    expect(messages).toContainEqual(expect.stringContaining("Security group sg-0fedcba9876543210 is not in the stack"));
    expect(messages).toContainEqual(expect.stringContaining("the network ACL (outbound) hop toward primary 10.151.14.141:18801"));
    expect(existing.scopes[0]?.paths[0]?.trace).toContain("rtb-0a1b2c3d4e5f60789 10.151.14.141/32 via vgw-0a1b2c3d4e5f60789");
  });
});

describe("client scope", () => {
  it("is each interface that carries an HKEX group, with every group on it", () => {
    const stack = [
      ...privateClient(),
      res(T.securityGroup, "web", { vpcId: "vpc-0a0a0a0a0a0a0a0a0" }, { id: "sg-0b0b0b0b0b0b0b0b0" }),
      res(T.egressRule, "web-https", {
        securityGroupId: "sg-0b0b0b0b0b0b0b0b0",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      }),
    ];
    // The web group on another instance is irrelevant.
    const other = [
      ...stack,
      res(T.instance, "web-1", { subnetId: "subnet-0a0a0a0a0a0a0a0a0", vpcSecurityGroupIds: ["sg-0b0b0b0b0b0b0b0b0"] }),
    ];
    expect(evaluateHkexFlows(other).findings).toEqual([]);
    // On the client, it opens tcp/443 toward HKEX.
    const onClient = changed(stack, "fetch", { vpcSecurityGroupIds: ["sg-0a0a0a0a0a0a0a0a0", "sg-0b0b0b0b0b0b0b0b0"] });
    const e = evaluateHkexFlows(onClient);
    expect(e.verdict).toBe("fail");
    expect(e.findings.map((f) => f.message)).toEqual([
      "From subnet-0a0a0a0a0a0a0a0a0 (i-0a0a0a0a0a0a0a0a0), sg-0b0b0b0b0b0b0b0b0 egress rule web-https (tcp/443 to 0.0.0.0/0) lets tcp/443 through to 10.151.14.0/24 (acl-0d0d0d0d0d0d0d0d0 #100 allow; rtb-0a0a0a0a0a0a0a0a0 10.151.14.0/24 via tgw-0f1e2d3c4b5a69788); only TCP 18801 may reach HKEX. Narrow the rule, or deny the rest toward 10.151.14.0/24 in the network ACL.",
      "From subnet-0a0a0a0a0a0a0a0a0 (i-0a0a0a0a0a0a0a0a0), sg-0b0b0b0b0b0b0b0b0 egress rule web-https (tcp/443 to 0.0.0.0/0) lets tcp/443 through to 10.152.14.0/24 (acl-0d0d0d0d0d0d0d0d0 #100 allow; rtb-0a0a0a0a0a0a0a0a0 10.152.14.0/24 via tgw-0f1e2d3c4b5a69788); only TCP 18801 may reach HKEX. Narrow the rule, or deny the rest toward 10.152.14.0/24 in the network ACL.",
    ]);
  });

  it("does not count an allow-all toward a route that does not reach HKEX", () => {
    // All traffic to anywhere, but the HKEX ranges only follow 0.0.0.0/0 to the internet gateway: the path breaks, nothing broader arrives.
    const stack = [
      ...privateClient().filter((r) => r.type !== T.route),
      res(T.route, "default", {
        routeTableId: "rtb-0a0a0a0a0a0a0a0a0",
        destinationCidrBlock: "0.0.0.0/0",
        gatewayId: "igw-0c0c0c0c0c0c0c0c0",
      }),
      res(T.egressRule, "all-out", { securityGroupId: "sg-0a0a0a0a0a0a0a0a0", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }),
    ];
    const e = evaluateHkexFlows(stack);
    expect(new Set(e.findings.map((f) => f.code))).toEqual(new Set(["flow-path-broken"]));
    expect(e.findings[0]?.message).toContain(
      "rtb-0a0a0a0a0a0a0a0a0 0.0.0.0/0 via igw-0c0c0c0c0c0c0c0c0: an internet gateway cannot reach HKEX's private addresses",
    );
  });

  it("takes a declared scope from the component's outputs or from config", () => {
    const stack = privateClient().filter((r) => r.type !== T.instance);
    const scope = { securityGroupIds: ["sg-0a0a0a0a0a0a0a0a0"], subnetIds: ["subnet-0a0a0a0a0a0a0a0a0"] };
    const declared = [...stack, res(T.sftpAccess, "hkex-sftp", { scope })];
    const fromOutputs = evaluateHkexFlows(declared);
    expect(fromOutputs.scopes.map((s) => [s.basis, s.subnet, s.routeTable])).toEqual([
      ["declared", "subnet-0a0a0a0a0a0a0a0a0", "rtb-0a0a0a0a0a0a0a0a0"],
    ]);
    expect(fromOutputs.scopes[0]?.label).toBe("sg-0a0a0a0a0a0a0a0a0 in subnet-0a0a0a0a0a0a0a0a0");
    // Attached to nothing: the declared subnet is taken on trust, and the pack says so.
    expect(codes(fromOutputs)).toEqual(["advisory flow-unattached-group"]);
    expect(fromOutputs.findings[0]?.message).toBe(
      "Security group sg-0a0a0a0a0a0a0a0a0 carries HKEX rules and is attached to no interface or instance in the stack: the subnet, network ACL and route table of its client could not be verified, and it was evaluated in the declared client scope. Attach it to the client's interfaces in the stack (attach.networkInterfaceIds), or declare the client scope (subnetIds) in the component or the pack config.",
    );
    // The same keys at the top of the component's outputs, and the stack's `scope` output.
    const topLevel = evaluateHkexFlows([...stack, res(T.sftpAccess, "hkex-sftp", { securityGroupId: "sg-0a0a0a0a0a0a0a0a0", ...scope })]);
    const stackOutput = evaluateHkexFlows([...stack, res(T.stack, "hkex-sftp-readiness-prod", { scope })]);
    for (const e of [topLevel, stackOutput])
      expect(e.scopes.map((s) => [s.basis, s.subnet])).toEqual([["declared", "subnet-0a0a0a0a0a0a0a0a0"]]);
    const fromConfig = evaluateHkexFlows(stack, { scope: { subnetIds: ["subnet-0a0a0a0a0a0a0a0a0"] } });
    expect(fromConfig.scopes.map((s) => s.basis)).toEqual(["declared"]);
    // Inferred instead, the group has no subnet: the route table is the one the stack writes HKEX routes into.
    expect(evaluateHkexFlows(stack).scopes.map((s) => [s.basis, s.networkAcl, s.routeTable])).toEqual([
      ["inferred", undefined, "rtb-0a0a0a0a0a0a0a0a0"],
    ]);
  });

  it("fails a stack with no client at all, unless told a client is not required", () => {
    const stack = privateClient().filter((r) => r.type !== T.egressRule);
    expect(codes(evaluateHkexFlows(stack))).toEqual(["mandatory flow-no-client"]);
    expect(codes(evaluateHkexFlows(stack, { requireClient: false }))).toEqual(["advisory flow-no-client"]);
  });
});

describe("options", () => {
  it("checks only the endpoints it is given", () => {
    const doc = JSON.parse(readFileSync("test/fixtures/corpus/primary-only.json", "utf8"));
    const resources = loadStateDocument(doc).resources.map(fromStateResource);
    expect(evaluateHkexFlows(resources).verdict).toBe("fail");
    const primary = evaluateHkexFlows(resources, { endpoints: endpointsOf(undefined, ["primary"]) });
    expect(primary.verdict).toBe("pass");
    expect(primary.scopes[0]?.paths.map((p) => p.endpoint.host)).toEqual(["10.151.14.141", "10.151.14.142"]);
  });

  it("checks the return path over the ephemeral ports it is given", () => {
    const stack = [
      ...privateClient(),
      res(T.networkAcl, "nacl", {
        vpcId: "vpc-0a0a0a0a0a0a0a0a0",
        subnetIds: ["subnet-0a0a0a0a0a0a0a0a0"],
        egress: [{ ruleNo: 100, action: "allow", protocol: "-1", cidrBlock: "0.0.0.0/0", fromPort: 0, toPort: 0 }],
        ingress: [{ ruleNo: 100, action: "allow", protocol: "6", cidrBlock: "10.0.0.0/8", fromPort: 32768, toPort: 60999 }],
      }),
    ];
    const linuxOnly = evaluateHkexFlows(stack);
    expect(linuxOnly.findings[0]?.message).toContain("return nacl * deny: no inbound rule allows tcp/1024-32767 from 10.151.14.141");
    expect(evaluateHkexFlows(stack, { ephemeralPorts: { from: 32768, to: 60999 } }).findings).toEqual([]);
  });
});

describe("provider conflicts and bad values", () => {
  it("fail where the client's flows depend on them and are advisory elsewhere", () => {
    const web = [
      res(
        T.securityGroup,
        "web",
        { vpcId: "vpc-0a0a0a0a0a0a0a0a0", egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }] },
        { id: "sg-0b0b0b0b0b0b0b0b0" },
      ),
      res(T.egressRule, "web-http", {
        securityGroupId: "sg-0b0b0b0b0b0b0b0b0",
        ipProtocol: "tcp",
        fromPort: 80,
        toPort: 80,
        cidrIpv4: "0.0.0.0/0",
      }),
    ];
    const elsewhere = evaluateHkexFlows([...privateClient(), ...web]);
    expect(elsewhere.verdict).toBe("pass");
    expect(codes(elsewhere)).toEqual(["advisory flow-conflict"]);
    // Props only (the policy SDK): an inline block that mirrors no rule resource is the program's own.
    const onClient = evaluateHkexFlows(
      changed(privateClient(), "sftp", { egress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.40.0.0/16"] }] }),
    );
    expect(codes(onClient)).toContain("mandatory flow-conflict");
  });

  it("leave out a CIDR AWS would reject, and say so", () => {
    const stack = changed(privateClient(), "sftp-10-151-14-141", { cidrIpv4: "10.151.14.141/24" });
    const e = evaluateHkexFlows(stack);
    expect(e.findings.map((f) => `${f.level} ${f.code}: ${f.message}`)).toEqual([
      "mandatory flow-path-broken: From subnet-0a0a0a0a0a0a0a0a0 (i-0a0a0a0a0a0a0a0a0), primary 10.151.14.141:18801 is not reachable: sg-0a0a0a0a0a0a0a0a0: no egress rule allows tcp/18801 to 10.151.14.141. Path: subnet-0a0a0a0a0a0a0a0a0 (i-0a0a0a0a0a0a0a0a0) → [broken] sg-0a0a0a0a0a0a0a0a0: no egress rule allows tcp/18801 to 10.151.14.141",
      'advisory flow-unresolved: Security-group rule sftp-10-151-14-141 of sg-0a0a0a0a0a0a0a0a0 names "10.151.14.141/24", which is not a canonical IPv4 CIDR (a.b.c.d/n with no host bits); AWS rejects it, so it is left out.',
    ]);
  });
});

describe("what cannot be known yet", () => {
  it("is unverified, named, and never a pass or a failure", () => {
    const stack = privateClient().map((r) => (r.name === "sftp-10-152-14-142" ? { ...r, props: { ...r.props, cidrIpv4: UNKNOWN_ID } } : r));
    const e = evaluateHkexFlows(stack);
    expect(e.verdict).toBe("pass");
    expect(e.scopes[0]?.paths.map((p) => p.status)).toEqual(["reachable", "reachable", "reachable", "unverified"]);
    expect(e.findings.map((f) => f.message)).toEqual([
      "From subnet-0a0a0a0a0a0a0a0a0 (i-0a0a0a0a0a0a0a0a0), the security-group hop toward secondary 10.152.14.142:18801 could not be verified: sg-0a0a0a0a0a0a0a0a0 egress rule sftp-10-152-14-142 (tcp/18801 to cidrIpv4 (known after apply)) is not known until the update runs.",
    ]);
  });

  it("links a whole preview by dependencies and explains it with the resources' names", () => {
    const vpc = res(T.vpc, "vpc", { cidrBlock: "10.15.0.0/16" });
    const subnet = res(T.subnet, "private", { vpcId: UNKNOWN_ID, cidrBlock: "10.15.1.0/24" }, { deps: { vpcId: [vpc.urn] } });
    const table = res(T.routeTable, "rt", { vpcId: UNKNOWN_ID }, { deps: { vpcId: [vpc.urn] } });
    const routes = ["10.151.14.0/24", "10.152.14.0/24"].map((cidr, i) =>
      res(
        T.route,
        `hkex-${i}`,
        { routeTableId: UNKNOWN_ID, destinationCidrBlock: cidr, transitGatewayId: TGW },
        { deps: { routeTableId: [table.urn] } },
      ),
    );
    const assoc = res(
      T.routeTableAssociation,
      "assoc",
      { routeTableId: UNKNOWN_ID, subnetId: UNKNOWN_ID },
      { deps: { routeTableId: [table.urn], subnetId: [subnet.urn] } },
    );
    const group = res(T.securityGroup, "sftp", { vpcId: UNKNOWN_ID }, { deps: { vpcId: [vpc.urn] } });
    const box = res(
      T.instance,
      "fetch",
      { subnetId: UNKNOWN_ID, vpcSecurityGroupIds: [UNKNOWN_ID] },
      { deps: { subnetId: [subnet.urn], vpcSecurityGroupIds: [group.urn] } },
    );
    const e = evaluateHkexFlows([
      vpc,
      subnet,
      table,
      ...routes,
      assoc,
      group,
      ...hkexRules("sftp", UNKNOWN_ID, { securityGroupId: [group.urn] }),
      box,
    ]);
    expect(e.findings).toEqual([]);
    expect(e.scopes[0]?.paths[0]?.trace).toBe(
      "private (fetch) → sftp egress rule sftp-10-151-14-141 allows tcp/18801 to 10.151.14.141/32 → vpc default-network-acl #100 allow → rt 10.151.14.0/24 via tgw-0f1e2d3c4b5a69788 → return vpc default-network-acl #100 allow",
    );
  });
});
