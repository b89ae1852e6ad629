// biome-ignore-all lint/suspicious/noExplicitAny: the analyzer protocol classes come from untyped generated protobuf code
/**
 * The pack as the Pulumi CLI runs it: the compiled policies/index.ts started
 * from policies/, spoken to over the analyzer gRPC protocol the CLI uses.
 * Needs dist/ (scripts/test.sh runs tsc before vitest).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_TYPES } from "../../infra/awsTypes";

/* eslint-disable @typescript-eslint/no-require-imports */
const grpc = require("@grpc/grpc-js");
const services = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const pb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** pulumirpc.EnforcementLevel */
const LEVEL = ["advisory", "mandatory"];

let pack: ChildProcess;
let client: { [rpc: string]: (req: unknown, cb: (err: Error | null, res: any) => void) => void; close(): void };
const rpc = (name: string, req: unknown): Promise<any> =>
  new Promise((resolve, reject) => {
    const call = client[name];
    if (call === undefined) return reject(new Error(`the analyzer client has no ${name} call`));
    call.call(client, req, (err, res) => (err ? reject(err) : resolve(res)));
  });

function resource<T>(Ctor: new () => T, type: string, name: string, props: object): T {
  return (new Ctor() as any)
    .setType(type)
    .setName(name)
    .setUrn(`urn:pulumi:prod::hkex-sftp-readiness::${type}::${name}`)
    .setProperties(Struct.fromJavaScript(props))
    .setOptions(new pb.AnalyzerResourceOptions());
}

beforeAll(async () => {
  pack = spawn(process.execPath, ["../dist/policies/index.js"], { cwd: "policies", stdio: ["ignore", "pipe", "inherit"] });
  // Like the CLI, read the port the analyzer prints first.
  const [chunk] = await once(pack.stdout!, "data");
  client = new services.AnalyzerClient(`127.0.0.1:${String(chunk).trim()}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  client?.close();
  pack?.kill();
});

describe("the policy pack under the analyzer protocol", () => {
  it("introduces itself with the name and version of policies/package.json and all eight policies", async () => {
    const info = await rpc("getAnalyzerInfo", new Empty());
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
});
