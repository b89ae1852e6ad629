import { readFileSync } from "node:fs";
import { join } from "node:path";

let cached: string | undefined;

/** The kit's version from package.json (two levels up from checks/ in both src and dist). */
export function toolVersion(): string {
  if (cached) return cached;
  for (const up of [["..", ".."], [".."]]) {
    try {
      cached = (JSON.parse(readFileSync(join(__dirname, ...up, "package.json"), "utf8")) as { version: string }).version;
      return cached;
    } catch {
      // try the next candidate
    }
  }
  return "unknown";
}
