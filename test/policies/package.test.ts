/**
 * policies/ as a pack of its own, the way `pulumi policy publish` and
 * `pulumi preview --policy-pack policies` take it: its package.json (main
 * inside the folder, dependencies declared), PulumiPolicy.yaml, and the bundle
 * the build writes to policies/dist/. Then the pack alone: the files
 * `npm pack` puts in the tarball that publish uploads, unpacked into an empty
 * folder outside the repository, installed there with `npm ci` (offline, see
 * test/support/policyPack.ts), started as the CLI starts it and questioned over
 * the analyzer protocol next to the pack in the repository.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AWS_TYPES } from "../../infra/awsTypes";
import { tempDir } from "../support/facility";
import {
  PACK_DIR,
  REPO_ROOT,
  analyzerResource,
  diagnostics,
  installPackOffline,
  npmOrThrow,
  pb,
  startPolicyPack,
  type RunningPack,
} from "../support/policyPack";

interface Manifest {
  name: string;
  version: string;
  main: string;
  files?: string[];
  dependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;
const packManifest = readJson<Manifest>(join(PACK_DIR, "package.json"));
const rootManifest = readJson<Manifest>(join(REPO_ROOT, "package.json"));

/** The package a bare specifier names: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
const packageOf = (specifier: string): string =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

/** What `npm pack` would put in the tarball, as `pulumi policy publish` runs it in the pack's folder. */
async function packedFiles(): Promise<string[]> {
  const [report] = JSON.parse(await npmOrThrow(["pack", "--dry-run", "--json", "--ignore-scripts"], PACK_DIR)) as [
    { files: { path: string }[] },
  ];
  return report.files.map((f) => f.path).sort();
}

describe("policies/ as a package", () => {
  it("names its entry inside the folder: the bundle the build wrote", () => {
    const main = resolve(PACK_DIR, packManifest.main);
    expect(relative(PACK_DIR, main)).toBe(join("dist", "index.js"));
    expect(existsSync(main)).toBe(true);
  });

  it("declares @pulumi/policy and @pulumi/pulumi, each dependency at the version the root package.json uses", () => {
    const declared = packManifest.dependencies ?? {};
    expect(Object.keys(declared)).toEqual(expect.arrayContaining(["@pulumi/policy", "@pulumi/pulumi"]));
    expect(Object.fromEntries(Object.keys(declared).map((name) => [name, rootManifest.dependencies?.[name]]))).toEqual(declared);
  });

  it("requires at run time only node's own modules and packages it declares; the repo's code is inside the bundle", () => {
    const bundle = readFileSync(join(PACK_DIR, packManifest.main), "utf8");
    const required = [...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(required.filter((s) => s.startsWith("."))).toEqual([]);
    const packages = new Set(required.filter((s) => !s.startsWith("node:") && !builtinModules.includes(s)).map(packageOf));
    // @pulumi/policy at least (the PolicyPack); @pulumi/pulumi is declared for the launcher, run-policy-pack.
    expect(packages.has("@pulumi/policy")).toBe(true);
    expect([...packages].filter((name) => !(name in (packManifest.dependencies ?? {})))).toEqual([]);
  });

  it("has a PulumiPolicy.yaml for the nodejs runtime whose entry, if any, stays in the folder", () => {
    const project = parse(readFileSync(join(PACK_DIR, "PulumiPolicy.yaml"), "utf8")) as {
      runtime: string | { name: string };
      main?: string;
    };
    expect(typeof project.runtime === "string" ? project.runtime : project.runtime.name).toBe("nodejs");
    if (project.main !== undefined) expect(relative(PACK_DIR, resolve(PACK_DIR, project.main)).startsWith("..")).toBe(false);
  });

  it("packs, as `pulumi policy publish` does with npm pack, the manifest, PulumiPolicy.yaml and the bundle, and no sources", async () => {
    const files = await packedFiles();
    expect(files).toEqual(expect.arrayContaining(["PulumiPolicy.yaml", "dist/index.js", "package.json"]));
    expect(files.filter((f) => f.endsWith(".ts") || !/^(dist\/|PulumiPolicy\.yaml$|package\.json$|README|LICENSE)/.test(f))).toEqual([]);
  });
});

describe("the pack installed alone, outside the repository", () => {
  const dir = tempDir("policy-pack");
  const installed = join(dir, "package");
  let alone: RunningPack;
  let inRepo: RunningPack;

  beforeAll(async () => {
    // The tarball publish would upload, unpacked where nothing of the repo can be reached.
    const tarball = (await npmOrThrow(["pack", "--ignore-scripts", "--pack-destination", dir], PACK_DIR)).trim().split("\n").pop()!;
    await new Promise<void>((ok, fail) => execFile("tar", ["-xzf", join(dir, tarball), "-C", dir], (err) => (err ? fail(err) : ok())));
    await installPackOffline(installed);
    [alone, inRepo] = await Promise.all([startPolicyPack(installed), startPolicyPack(PACK_DIR)]);
  }, 240_000);

  afterAll(() => {
    alone?.close();
    inRepo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("holds only the published files and the installed dependencies, and runs @pulumi/pulumi from its own node_modules", () => {
    const entries = readdirSync(installed).filter((f) => !/^(README|LICENSE)/i.test(f));
    expect(entries.sort()).toEqual(["PulumiPolicy.yaml", "dist", "node_modules", "package-lock.json", "package.json"]);
    const runner = createRequire(join(installed, "package.json")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
    expect(relative(installed, runner)).toBe(join("node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack", "index.js"));
    expect(existsSync(join(installed, "node_modules", "@pulumi", "policy", "package.json"))).toBe(true);
  });

  it("introduces itself with the name and version of its package.json and the same policies as the pack in the repo", async () => {
    const [info, repoInfo] = await Promise.all([alone.info(), inRepo.info()]);
    expect([info.getName(), info.getVersion()]).toEqual([packManifest.name, packManifest.version]);
    const names = (i: typeof info): string[] => i.getPoliciesList().map((p: { getName(): string }) => p.getName());
    expect(names(info).length).toBeGreaterThan(0);
    expect(names(info)).toEqual(names(repoInfo));
  });

  it("answers a resource analysis as the pack in the repo does", async () => {
    const req = analyzerResource(pb.AnalyzeRequest, AWS_TYPES.securityGroupEgressRule, "hkex-any", {
      cidrIpv4: "10.151.14.141/32",
      ipProtocol: "-1",
      securityGroupId: "sg-0c4f5e6a7b8d9e0f1",
    });
    const [mine, theirs] = await Promise.all([alone.rpc("analyze", req), inRepo.rpc("analyze", req)]);
    expect(diagnostics(mine)).toEqual(diagnostics(theirs));
  });

  it("fails a stack whose HKEX client group also lets everything out to 0.0.0.0/0, as the pack in the repo does", async () => {
    const group = "sg-0c4f5e6a7b8d9e0f1";
    const req = new pb.AnalyzeStackRequest().setResourcesList([
      analyzerResource(pb.AnalyzerResource, AWS_TYPES.securityGroup, "sftp-client", {
        id: group,
        vpcId: "vpc-0a1b2c3d4e5f60789",
        egress: [
          {
            protocol: "tcp",
            fromPort: 18801,
            toPort: 18801,
            cidrBlocks: ["10.151.14.141/32"],
            description: "HKEX SFTP primary 10.151.14.141:18801",
          },
          { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "" },
        ],
        ingress: [],
      }),
    ]);
    const [mine, theirs] = await Promise.all([alone.rpc("analyzeStack", req), inRepo.rpc("analyzeStack", req)]);
    expect(diagnostics(mine)).toEqual(diagnostics(theirs));
    expect(diagnostics(mine).filter(([, level]) => level === "mandatory").length).toBeGreaterThan(0);
  });
});
