/**
 * Throwaway ed25519 key pairs (demo, simulator, tests). ssh2 1.17's
 * generateKeyPairSync('ed25519') strips leading zero bytes from the public key
 * and so produces an unparseable pair about once in 256 calls
 * (mscdex/ssh2#1390, #1513). Every pair is parsed back before use, and a bad
 * one is simply generated again.
 */
import { utils } from "ssh2";

const MAX_ATTEMPTS = 16;

export interface KeyPair {
  /** OpenSSH private key (PEM-armoured "OPENSSH PRIVATE KEY"). */
  readonly private: string;
  /** One-line "ssh-ed25519 AAAA… comment". */
  readonly public: string;
}

export function generateEd25519KeyPair(comment?: string): KeyPair {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const pair = comment === undefined ? utils.generateKeyPairSync("ed25519") : utils.generateKeyPairSync("ed25519", { comment });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error(`could not generate a valid ed25519 key pair in ${MAX_ATTEMPTS} attempts`);
}
