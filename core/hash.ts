/** SHA-256 of files, streamed: the one implementation the downloads, the bench and the tests share. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Lower-case hex SHA-256 of the file's bytes; rejects when it cannot be read. */
export async function sha256OfFile(path: string, highWaterMark = 1024 * 1024): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
