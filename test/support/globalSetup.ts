/**
 * Every test's temporary files (throwaway keys among them) go below one folder
 * that is removed when the run ends: TMPDIR is pointed at it before the test
 * workers start, and os.tmpdir() in them and in their children follows it.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const base = mkdtempSync(join(tmpdir(), "hkex-ready-tests-"));
  // Like /tmp itself: some tests run a step as another user (nobody), which must reach its files.
  chmodSync(base, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = base;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    try {
      rmSync(base, { recursive: true, force: true });
    } catch {
      // A mount a test could not undo keeps its folder; the rest is gone.
    }
  };
}
