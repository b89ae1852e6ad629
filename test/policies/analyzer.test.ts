// biome-ignore-all lint/suspicious/noExplicitAny: the analyzer protocol classes come from untyped generated protobuf code
/**
 * The pack as the Pulumi CLI runs it: policies/ (its package.json `main` is
 * the bundle policies/dist/index.js) started through @pulumi/pulumi's
 * run-policy-pack, spoken to over the analyzer gRPC protocol the CLI uses.
 * Needs the bundle (scripts/test.sh builds it; `npm run build` does too).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_TYPES } from "../../infra/awsTypes";
import { LEVEL, PACK_DIR, analyzerResource as resource, pb, startPolicyPack, type RunningPack } from "../support/policyPack";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let pack: RunningPack;
const rpc = (name: string, req: unknown): Promise<any> => pack.rpc(name, req);

beforeAll(async () => {
  pack = await startPolicyPack(PACK_DIR);
});

afterAll(() => {
  pack?.close();
});

describe("the policy pack under the analyzer protocol", () => {
  it("introduces itself with the name and version of policies/package.json and all nine policies", async () => {
    const info = await pack.info();
    expect([info.getName(), info.getVersion()]).toEqual(["hkex-sftp-firewall", "0.1.0"]);
    expect(info.getPoliciesList().map((p: any) => p.getName())).toEqual([
      "ec2-hkex-both-sites-covered",
      "ec2-security-group-hkex-tcp-18801-only",
      "ec2-network-acl-rule-numbers-unique",
      "ec2-vpc-no-mixed-rules",
      "ec2-reachability-analysis-path-found",
      "ec2-route-hkex-target",
      "ec2-hkex-path-verified",
      "ec2-security-group-hkex-rule-descriptions",
      "lambda-hkex-probe-in-client-subnets",
    ]);
  });

  it("has no resource policies: a single rule says nothing about the flows", async () => {
    const req = resource(pb.AnalyzeRequest, AWS_TYPES.securityGroupEgressRule, "r", {
      cidrIpv4: "10.151.14.141/32",
      ipProtocol: "-1",
      securityGroupId: UNKNOWN,
    });
    const res = await rpc("analyze", req);
    expect(res.getDiagnosticsList()).toEqual([]);
  });

  it("runs the stack policies on the whole stack", async () => {
    const req = new pb.AnalyzeStackRequest().setResourcesList([
      resource(pb.AnalyzerResource, AWS_TYPES.securityGroup, "sg", {
        arn: "arn:aws:ec2:ap-east-1:123456789012:security-group/sg-0c4f5e6a7b8d9e0f1",
        egress: [],
        ingress: [],
      }),
      resource(pb.AnalyzerResource, AWS_TYPES.securityGroupEgressRule, "only-primary", {
        cidrIpv4: "10.151.14.0/24",
        ipProtocol: "tcp",
        fromPort: 18801,
        toPort: 18801,
        securityGroupId: "sg-0c4f5e6a7b8d9e0f1",
        description: "HKEX primary",
      }),
    ]);
    const res = await rpc("analyzeStack", req);
    expect(
      res.getDiagnosticsList().map((d: any) => [d.getPolicyname(), LEVEL[d.getEnforcementlevel()], d.getMessage().split("\n")[1]]),
    ).toEqual([
      [
        "ec2-hkex-both-sites-covered",
        "mandatory",
        "From sg-0c4f5e6a7b8d9e0f1, secondary 10.152.14.141:18801 is not reachable: sg-0c4f5e6a7b8d9e0f1: no egress rule allows tcp/18801 to 10.152.14.141. Path: sg-0c4f5e6a7b8d9e0f1 → [broken] sg-0c4f5e6a7b8d9e0f1: no egress rule allows tcp/18801 to 10.152.14.141",
      ],
      [
        "ec2-hkex-both-sites-covered",
        "mandatory",
        "From sg-0c4f5e6a7b8d9e0f1, secondary 10.152.14.142:18801 is not reachable: sg-0c4f5e6a7b8d9e0f1: no egress rule allows tcp/18801 to 10.152.14.142. Path: sg-0c4f5e6a7b8d9e0f1 → [broken] sg-0c4f5e6a7b8d9e0f1: no egress rule allows tcp/18801 to 10.152.14.142",
      ],
      [
        "ec2-hkex-path-verified",
        "advisory",
        "Security group sg-0c4f5e6a7b8d9e0f1 carries HKEX rules and is attached to no interface or instance in the stack: the subnet, network ACL and route table of its client could not be verified, and only its own rules were evaluated. Attach it to the client's interfaces in the stack (attach.networkInterfaceIds), or declare the client scope (subnetIds) in the component or the pack config.",
      ],
    ]);
  });

  it("reports a probe function outside the HKEX group, as in a preview", async () => {
    const req = new pb.AnalyzeStackRequest().setResourcesList([
      resource(pb.AnalyzerResource, AWS_TYPES.securityGroupEgressRule, "egress", {
        cidrIpv4: "10.151.14.141/32",
        ipProtocol: "tcp",
        fromPort: 18801,
        toPort: 18801,
        securityGroupId: "sg-0c4f5e6a7b8d9e0f1",
        description: "HKEX primary",
      }),
      resource(pb.AnalyzerResource, AWS_TYPES.lambdaFunction, "hkex-sftp-probe", {
        environment: { variables: { HKEX_KEY_SECRET_ID: "arn:aws:secretsmanager:ap-east-1:123456789012:secret:hkex/key-AbCdEf" } },
        vpcConfig: { subnetIds: ["subnet-0a1b2c3d4e5f60789"], securityGroupIds: ["sg-0d5e6f7a8b9c0d1e2"] },
      }),
    ]);
    const res = await rpc("analyzeStack", req);
    const probe = res.getDiagnosticsList().filter((d: any) => d.getPolicyname() === "lambda-hkex-probe-in-client-subnets");
    expect(probe.map((d: any) => [LEVEL[d.getEnforcementlevel()], d.getMessage().split("\n")[1]])).toEqual([
      [
        "mandatory",
        "Lambda function hkex-sftp-probe is an HKEX VPC probe but none of its security groups (sg-0d5e6f7a8b9c0d1e2) carries the HKEX egress rules; attach the HKEX group (sg-0c4f5e6a7b8d9e0f1) so the probe tests the clients' rules.",
      ],
    ]);
  });
});
