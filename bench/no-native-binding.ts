/**
 * Preloaded (`node -r`) into every kit process the bench starts: it hides
 * ssh2's optional native crypto binding, so the figures are those of the
 * pure-JS path that every installation has, whether or not a compiler happened
 * to build the binding on this machine. Nothing else changes.
 */
import Module from "node:module";

const loader = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
const resolveFilename = loader._resolveFilename;

loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  if (/sshcrypto\.node$/.test(request)) {
    throw Object.assign(new Error(`${request} is hidden by the benchmark (pure-JS ssh2 only)`), { code: "MODULE_NOT_FOUND" });
  }
  return resolveFilename.call(this, request, ...rest);
};
