/**
 * Preloaded with `node --require` by tests that count key decryptions: wraps
 * the bcrypt KDF that ssh2 runs for every encrypted OpenSSH-format key, before
 * ssh2 is loaded, and writes the number of calls to $KDF_COUNT_FILE at exit.
 */
const { writeFileSync } = require("node:fs");
const bcrypt = require("bcrypt-pbkdf");

const original = bcrypt.pbkdf;
let calls = 0;
bcrypt.pbkdf = function countedPbkdf(...args) {
  calls++;
  return original.apply(this, args);
};
process.on("exit", () => {
  if (process.env.KDF_COUNT_FILE) writeFileSync(process.env.KDF_COUNT_FILE, String(calls));
});
