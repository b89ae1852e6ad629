/**
 * Where the VPC probe gets the SFTP login key: a secret, read at run time
 * and held in memory only. The key never goes into the config, the
 * environment (only the secret's id does) or a log line.
 *
 * The secret holds either the private key itself (OpenSSH or PEM text, or the
 * same bytes as a binary secret), or JSON `{"privateKey": "...", "passphrase":
 * "..."}` for an encrypted key.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export interface SecretKey {
  readonly privateKey: Buffer;
  readonly passphrase?: string;
}

/** Reads one secret's value. Production: AWS Secrets Manager; tests: anything with the same shape. */
export interface SecretReader {
  read(secretId: string): Promise<SecretKey>;
}

/** Why a secret could not be used; the message never contains the secret's value. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretError";
  }
}

/** A secret's value as a key, from its text or bytes. */
function secretKeyFrom(value: { text?: string; bytes?: Uint8Array }, secretId: string): SecretKey {
  if (value.text !== undefined) {
    const text = value.text.trim();
    if (text.startsWith("{")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new SecretError(`secret ${secretId}: starts with "{" but is not valid JSON`);
      }
      const o = parsed as { privateKey?: unknown; passphrase?: unknown };
      if (typeof o.privateKey !== "string" || o.privateKey.trim() === "") {
        throw new SecretError(`secret ${secretId}: the JSON has no "privateKey" string`);
      }
      if (o.passphrase !== undefined && typeof o.passphrase !== "string") {
        throw new SecretError(`secret ${secretId}: "passphrase" must be a string`);
      }
      return { privateKey: Buffer.from(o.privateKey), ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}) };
    }
    if (text === "") throw new SecretError(`secret ${secretId}: is empty`);
    return { privateKey: Buffer.from(value.text) };
  }
  if (value.bytes !== undefined && value.bytes.length > 0) return { privateKey: Buffer.from(value.bytes) };
  throw new SecretError(`secret ${secretId}: has neither a string nor a binary value`);
}

/**
 * AWS Secrets Manager's GetSecretValue
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 * The client takes its region and credentials from the Lambda environment.
 */
export function secretsManagerReader(client: SecretsManagerClient = new SecretsManagerClient({})): SecretReader {
  return {
    async read(secretId: string): Promise<SecretKey> {
      let out: { SecretString?: string; SecretBinary?: Uint8Array };
      try {
        out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      } catch (err) {
        const e = err as { name?: string; message?: string };
        throw new SecretError(`secret ${secretId}: GetSecretValue failed: ${e.name ?? "Error"}: ${e.message ?? String(err)}`);
      }
      return secretKeyFrom({ text: out.SecretString, bytes: out.SecretBinary }, secretId);
    },
  };
}
