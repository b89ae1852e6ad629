/**
 * The direction of imports (ARCHITECTURE.md): the shell (cli/) on top, then
 * the domain (checks/, infra/, policies/), then core/ and the catalogue.
 * `npm test` runs this; any violation fails it.
 */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "No import cycles, at file or folder level.", from: {}, to: { circular: true,  } },
    {
      name: "nothing-imports-the-shell",
      severity: "error",
      comment: "cli/ is the shell: only the launcher in bin/ and the tests reach it.",
      from: { pathNot: "^(cli|test)/" },
      to: { path: "^cli/" },
    },
    {
      name: "catalogue-is-a-leaf",
      severity: "error",
      comment: "The catalogue holds facts only; it imports nothing of the project.",
      from: { path: "^catalogue/" },
      to: { path: "^(core|checks|cli|infra|policies|bench|test)/" },
    },
    {
      name: "core-imports-only-the-catalogue",
      severity: "error",
      comment: "core/ is what every part shares; it depends on no part.",
      from: { path: "^core/" },
      to: { path: "^(checks|cli|infra|policies|bench|test)/" },
    },
    {
      name: "checks-is-not-the-network-half",
      severity: "error",
      comment: "The checks domain does not depend on the Pulumi program or the policy pack.",
      from: { path: "^checks/" },
      to: { path: "^(infra|policies|bench|test)/" },
    },
    {
      name: "infra-stands-alone",
      severity: "error",
      comment: "infra/ uses the catalogue and core only: never the checks, the shell or the pack.",
      from: { path: "^infra/" },
      to: { path: "^(checks|cli|policies|bench|test)/" },
    },
    {
      name: "policies-stand-alone",
      severity: "error",
      comment: "The policy pack may read infra's AWS knowledge, never the checks or the shell.",
      from: { path: "^policies/" },
      to: { path: "^(checks|cli|bench|test)/" },
    },
    {
      name: "bench-uses-test-support-only",
      severity: "error",
      comment: "bench/ may share the test harness in test/support/, never a test folder.",
      from: { path: "^bench/" },
      to: { path: "^test/", pathNot: "^test/support/" },
    },
    {
      name: "test-support-is-shared-not-a-test",
      severity: "error",
      comment: "test/support/ is what tests import; it imports no test.",
      from: { path: "^test/support/" },
      to: { path: "\\.test\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    tsConfig: { fileName: "tsconfig.test.json" },
    tsPreCompilationDeps: "specify",
    combinedDependencies: false,
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
