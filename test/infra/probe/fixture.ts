/**
 * The VPC probe tests' stack config: a component with a probe block, as
 * Pulumi hands config to a program (namespaced keys, JSON text), and readers
 * for what the mock runtime recorded.
 */
import type { CapturedResource } from "../../../infra/mockRuntime";

export const NS = "hkex-sftp-readiness";
export const VPC = "vpc-0a1b2c3d4e5f60789";
export const SUBNETS = ["subnet-0a1b2c3d4e5f60789", "subnet-0b1c2d3e4f5a60789"];
export const SECRET_ARN = "arn:aws:secretsmanager:ap-east-1:123456789012:secret:hkex/sftp-login-key-AbCdEf";
export const KNOWN_HOSTS = [
  "[10.151.14.141]:18801,[10.151.14.142]:18801 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  "[10.152.14.141]:18801,[10.152.14.142]:18801 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlm0Q4Ph8J0YgYtT0JpPvyIQx7dT1wqK9F4kqD1j2Xw",
].join("\n");

/** A probe block with every required key. */
export function probeBlock(more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schedule: "rate(15 minutes)",
    subnetIds: SUBNETS,
    keySecretArn: SECRET_ARN,
    knownHosts: KNOWN_HOSTS,
    user: "CP0001",
    files: ["TP001", "TP002"],
    ...more,
  };
}

export function stackConfig(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k.includes(":") ? k : `${NS}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

export const ofType = (rs: readonly CapturedResource[], type: string) => rs.filter((r) => r.type === type);

export function named(rs: readonly CapturedResource[], name: string): CapturedResource {
  const found = rs.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no resource ${name}; have ${rs.map((r) => r.name).join(", ")}`);
  return found;
}
