/**
 * Property tests: the config, known_hosts and remote-file-name handling never
 * crash on arbitrary input. Bad input is always an InputError (exit 2) or a
 * refusal with a reason; good input is always accepted as it was meant.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import fc from "fast-check";
import { utils } from "ssh2";
import { describe, expect, it } from "vitest";
import { normaliseConfig, parseConfigText, parseHostEntry } from "../../checks/config";
import { downloadVerified, PhaseError, unsafeNameReason } from "../../checks/download";
import { InputError } from "../../core/errors";
import { entryMatches, fingerprint, knownHostsLine, parseKnownHosts, verifyHostKey } from "../../checks/knownHosts";
import { printable } from "../../core/text";

const RUNS = { numRuns: 300 };
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Calls fn; returns its value, or the InputError it threw; anything else fails the property. */
function inputOutcome<T>(fn: () => T): T | InputError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError) {
      expect(err.problems.length).toBeGreaterThan(0);
      for (const p of err.problems) expect(typeof p.message).toBe("string");
      return err;
    }
    throw err;
  }
}

/** Strings that lean on what breaks parsers: separators, brackets, colons, quotes, controls, non-ASCII. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(..."[]{}:,#|&*!'\"\\/.\n\r\t \u0000\u001b\u0085\u009b-?@>%`"), maxLength: 30 }),
);

const keyBlobOf = (publicLine: string) => Buffer.from(publicLine.split(" ")[1]!, "base64");
const KEYS = [0, 1, 2]
  .map(() => utils.generateKeyPairSync("ed25519"))
  .map((k) => ({ line: k.public.split(" ").slice(0, 2).join(" "), blob: keyBlobOf(k.public) }));

describe("config", () => {
  it("any text: a Config or an InputError, never a crash", () => {
    fc.assert(
      fc.property(fc.oneof(nasty, fc.string({ maxLength: 400 })), (text) => {
        inputOutcome(() => parseConfigText(text, "/etc/hkex/hkex.yaml"));
      }),
      RUNS,
    );
  });

  it("any YAML-shaped value under any key: a Config or an InputError", () => {
    const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, -1, 0, 1e300, "", "10.151.14.141", [], {}));
    const known = fc.constantFrom(
      "user",
      "identityFile",
      "passphraseEnv",
      "agent",
      "knownHostsFile",
      "remoteDir",
      "files",
      "downloadDir",
      "sites",
      "timeouts",
      "sshConfig",
      "email",
      "smtp",
    );
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(known, nasty), value, { maxKeys: 8 }), (raw) => {
        inputOutcome(() => normaliseConfig(raw, "/etc/hkex/hkex.yaml"));
      }),
      RUNS,
    );
  });

  it("valid addresses and ports are taken as given; each bad one is named by its index", () => {
    const goodHost = fc.tuple(fc.ipV4(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }));
    const badHost = fc.oneof(
      // The schema trims strings, as YAML users expect of "  10.151.14.141 ".
      nasty.filter((s) => s.trim() !== "" && typeof parseHostEntry(s.trim(), 1) === "string"),
      fc.tuple(fc.ipV4(), fc.oneof(fc.integer({ min: 65536, max: 10_000_000 }), fc.constant(0))).map(([ip, p]) => `${ip}:${p}`),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            goodHost.map((g) => ({ good: g })),
            badHost.map((b) => ({ bad: b })),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        (hosts) => {
          const entries = hosts.map((h) => ("good" in h ? (h.good[1] === undefined ? h.good[0] : `${h.good[0]}:${h.good[1]}`) : h.bad));
          const unique =
            new Set(entries).size === entries.length &&
            new Set(hosts.filter((h) => "good" in h).map((h) => ("good" in h ? `${h.good[0]}:${h.good[1] ?? 18801}` : ""))).size ===
              hosts.filter((h) => "good" in h).length;
          fc.pre(unique);
          const out = inputOutcome(() =>
            normaliseConfig(
              { user: "CP0001", identityFile: "k", knownHostsFile: "kh", files: ["TP001"], sites: { primary: { hosts: entries } } },
              "/x/c.yaml",
            ),
          );
          const bad = hosts.flatMap((h, i) => ("bad" in h ? [i] : []));
          if (bad.length === 0) {
            expect(out).not.toBeInstanceOf(InputError);
            if (out instanceof InputError) return;
            expect(out.sites.primary.targets).toEqual(
              hosts.map((h) => ("good" in h ? { host: h.good[0], port: h.good[1] ?? 18801 } : undefined)),
            );
          } else {
            expect(out).toBeInstanceOf(InputError);
            const paths = (out as InputError).problems.map((p) => p.path);
            for (const i of bad) expect(paths).toContain(`sites.primary.hosts[${i}]`);
          }
        },
      ),
      RUNS,
    );
  });

  it("parseHostEntry: an IP with a port in range, or a message quoting the entry printably", () => {
    fc.assert(
      fc.property(nasty, fc.integer({ min: 1, max: 65535 }), (entry, defaultPort) => {
        const t = parseHostEntry(entry, defaultPort);
        if (typeof t === "string") {
          expect(t).toContain(`"${printable(entry)}"`);
          expect(t).not.toMatch(CONTROL);
        } else {
          expect(t.port).toBeGreaterThanOrEqual(1);
          expect(t.port).toBeLessThanOrEqual(65535);
          expect(t.host).not.toMatch(CONTROL);
        }
      }),
      RUNS,
    );
  });
});

describe("known_hosts", () => {
  const hostPattern = fc.oneof(
    fc.constantFrom("*", "?", "127.0.0.*", "[127.0.151.141]:18801", "!127.0.0.1", "[*]:*", "|1|AAAA|BBBB", "|1|!!|x"),
    nasty.filter((s) => s.length > 0 && !/\s/.test(s)),
  );
  const line = fc.oneof(
    fc
      .tuple(
        fc.constantFrom("", "@revoked ", "@cert-authority ", "@bogus "),
        fc.array(hostPattern, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...KEYS.map((k) => k.line), "ssh-rsa AAAA", "ssh-ed25519 !!", "x y"),
      )
      .map(([marker, hosts, key]) => `${marker}${hosts.join(",")} ${key}`),
    nasty,
  );

  it("any text: entries or an InputError naming file:line, never a crash", () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), (lines) => {
        const out = inputOutcome(() => parseKnownHosts(lines.join("\n")));
        if (out instanceof InputError) for (const p of out.problems) expect(p.path).toMatch(/^knownHostsFile:\d+$/);
      }),
      RUNS,
    );
  });

  it("a key matches only where it is pinned for that host:port, never through another key, a marker or another port", () => {
    const [ours, theirs] = [KEYS[0]!, KEYS[1]!];
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("", "@revoked ", "@cert-authority "),
            fc.array(hostPattern, { minLength: 1, maxLength: 3 }),
            fc.constantFrom(theirs.line, ours.line),
          ),
          { maxLength: 6 },
        ),
        fc.integer({ min: 1, max: 65535 }),
        (lines, port) => {
          const text = lines.map(([m, h, k]) => `${m}${h.join(",")} ${k}`).join("\n");
          let entries: ReturnType<typeof parseKnownHosts>;
          try {
            entries = parseKnownHosts(text);
          } catch (err) {
            expect(err).toBeInstanceOf(InputError);
            return;
          }
          const v = verifyHostKey(entries, "127.0.151.141", port, ours.blob);
          const pinnedHere = entries.some(
            (e) => e.marker === undefined && e.keyBlob.equals(ours.blob) && entryMatches(e, "127.0.151.141", port),
          );
          const revoked = entries.some((e) => e.marker === "revoked" && e.keyBlob.equals(ours.blob));
          expect(v.fingerprint).toBe(fingerprint(ours.blob));
          if (v.status === "match") expect(pinnedHere && !revoked).toBe(true);
          else expect(pinnedHere && !revoked).toBe(false);
        },
      ),
      RUNS,
    );
  });

  it("a malformed hashed pattern, negated or not, is refused when read, not when a host is checked", () => {
    for (const pattern of ["|", "!|", "!|1|x", "|1|!!|x", "!|2|AAAA|BBBB"]) {
      expect(() => parseKnownHosts(`${pattern} ${KEYS[0]!.line}`)).toThrow(/knownHostsFile:1: malformed hashed host entry/);
    }
  });

  it("lines written by trust read back as a match for that host and port only", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        (host, port, other) => {
          const entries = parseKnownHosts(knownHostsLine(host, port, KEYS[2]!.blob));
          expect(verifyHostKey(entries, host, port, KEYS[2]!.blob).status).toBe("match");
          expect(verifyHostKey(entries, host, port, KEYS[0]!.blob).status).toBe("mismatch");
          if (other !== port) expect(verifyHostKey(entries, host, other, KEYS[2]!.blob).status).toBe("unknown");
        },
      ),
      RUNS,
    );
  });
});

describe("remote file names", () => {
  const name = fc.oneof(
    nasty,
    fc.constantFrom(
      "..",
      ".",
      "../x",
      "/etc/passwd",
      "TP001/../../x",
      "a\\b",
      "TP\u0000001",
      "TP\u001b[31m",
      "TP\u0085",
      "\u009b31m",
      "x".repeat(256),
      "é".repeat(128),
      "TP001",
    ),
    fc.string({ unit: "binary", maxLength: 40 }),
  );

  it("a name is refused, or it is one printable component directly inside the download folder", () => {
    const dir = "/var/hkex/downloads/primary-10.151.14.141";
    fc.assert(
      fc.property(name, (n) => {
        const reason = unsafeNameReason(n);
        if (reason !== undefined) {
          expect(reason.length).toBeGreaterThan(0);
          return;
        }
        const local = join(dir, n);
        expect(dirname(local)).toBe(dir);
        expect(basename(local)).toBe(n);
        // Nothing in an accepted name needs escaping: the report and the terminal show it as it is.
        expect(printable(n)).toBe(n);
        expect(Buffer.byteLength(n)).toBeLessThanOrEqual(255);
      }),
      RUNS,
    );
  });

  it("printable() never lets a control character through", () => {
    fc.assert(
      fc.property(fc.oneof(name, fc.string({ unit: "binary", maxLength: 200 })), (s) => {
        expect(printable(s)).not.toMatch(CONTROL);
      }),
      RUNS,
    );
  });

  it("downloadVerified refuses an unsafe name before it touches the server or the disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "names-"));
    const untouchable = new Proxy(
      {},
      {
        get: () => {
          throw new Error("the server must not be asked");
        },
      },
    ) as never;
    await fc.assert(
      fc.asyncProperty(
        name.filter((n) => unsafeNameReason(n) !== undefined),
        async (n) => {
          const err = await downloadVerified({
            sftp: untouchable,
            remotePath: `/r/${n}`,
            name: n,
            localDir: dir,
            expectedSize: 1,
            signal: new AbortController().signal,
          }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(PhaseError);
          expect((err as PhaseError).code).toBe("unsafe-name");
          expect((err as PhaseError).message).not.toMatch(CONTROL);
        },
      ),
      { numRuns: 100 },
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
