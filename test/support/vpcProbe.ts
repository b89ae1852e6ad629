/**
 * The VPC probe's tests: its event for a simulator, and a stand-in for AWS
 * Secrets Manager on loopback, speaking the GetSecretValue
 * call of its JSON protocol as the SDK sends it (POST /, X-Amz-Target:
 * secretsmanager.GetSecretValue, application/x-amz-json-1.1;
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 * Unknown secrets get the service's ResourceNotFoundException.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RunningSimulator } from "../../checks/simulator";

export interface FakeSecretsManager {
  readonly url: string;
  /** Every request: its X-Amz-Target and parsed body. */
  readonly calls: { target: string | undefined; body: { SecretId?: string }; authorization: string | undefined }[];
  close(): Promise<void>;
}

export async function fakeSecretsManager(
  secrets: Record<string, { SecretString?: string; SecretBinary?: Buffer }>,
): Promise<FakeSecretsManager> {
  const calls: FakeSecretsManager["calls"] = [];
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      const body = JSON.parse(raw || "{}") as { SecretId?: string };
      const target = req.headers["x-amz-target"] as string | undefined;
      calls.push({ target, body, authorization: req.headers.authorization });
      const found = body.SecretId !== undefined ? secrets[body.SecretId] : undefined;
      const reply = (status: number, doc: Record<string, unknown>, extra: Record<string, string> = {}) => {
        const text = JSON.stringify(doc);
        res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1", "Content-Length": Buffer.byteLength(text), ...extra });
        res.end(text);
      };
      if (target !== "secretsmanager.GetSecretValue") {
        return reply(400, { __type: "UnknownOperationException", message: `unknown operation ${target}` });
      }
      if (!found) {
        return reply(
          400,
          { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." },
          { "x-amzn-ErrorType": "ResourceNotFoundException" },
        );
      }
      reply(200, {
        ARN: `arn:aws:secretsmanager:ap-east-1:123456789012:secret:${body.SecretId}-AbCdEf`,
        Name: body.SecretId,
        VersionId: "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1",
        ...(found.SecretString !== undefined ? { SecretString: found.SecretString } : {}),
        ...(found.SecretBinary !== undefined ? { SecretBinary: found.SecretBinary.toString("base64") } : {}),
        VersionStages: ["AWSCURRENT"],
        CreatedDate: 1.523477145713e9,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Environment for an AWS SDK client that must only talk to `endpoint`: fake
 * credentials and region, and the shared config files pointed inside `dir`
 * so nothing outside the test's folder is read.
 */
export function awsTestEnv(dir: string, endpoint: string): Record<string, string> {
  return {
    AWS_REGION: "ap-east-1",
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    AWS_CONFIG_FILE: `${dir}/aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/aws-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
  };
}

/** The schedule's event for a probe of the simulator's endpoints, with its host keys pinned. */
export function probeEvent(sim: RunningSimulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const sites = sim.configSites();
  return {
    config: {
      user: "CP0001",
      files: ["TP001", "TP002"],
      sites: { primary: { hosts: sites.primary.hosts }, secondary: { hosts: sites.secondary.hosts } },
      timeouts: { connectMs: 2000, handshakeMs: 4000, operationMs: 4000, transferMs: 10000 },
    },
    knownHosts: sim.knownHosts(),
    site: "all",
    keySecretId: "hkex/sftp-login-key",
    probe: "vpc-0abc1234",
    ...extra,
  };
}
