/**
 * Input files (config, key, known_hosts, client config) are read only when
 * they are regular files of a sane size: reading a FIFO blocks until someone
 * writes to it, and a device such as /dev/zero never ends, and the kit must
 * never hang or exhaust memory on bad input.
 */
import { statSync } from "node:fs";

/**
 * Why `path` must not be read, or undefined when it is a regular file within
 * `maxBytes` (or cannot be stat'ed at all: the read itself then says why).
 * A folder is left to the read too, which reports EISDIR.
 */
export function unreadableInput(path: string, maxBytes: number): string | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  if (st.isDirectory()) return undefined;
  if (!st.isFile()) return `${path} is not a regular file (a FIFO, socket or device cannot be read as input)`;
  if (st.size > maxBytes) return `${path} is ${st.size} bytes, more than the ${maxBytes} bytes such a file can reasonably hold`;
  return undefined;
}

export const MAX_KEY_BYTES = 1024 * 1024;
export const MAX_TEXT_INPUT_BYTES = 16 * 1024 * 1024;

/** Pulumi state exports grow with the stack; they still have to fit in memory. */
export const MAX_STATE_BYTES = 256 * 1024 * 1024;
