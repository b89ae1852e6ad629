/** Captures what a command module writes to stdout during a test (restore with vi.restoreAllMocks()). */
import { vi } from "vitest";

export function captureStdout(): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  return { text: () => chunks.join("") };
}
