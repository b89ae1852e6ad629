/**
 * Input files (config, key, known_hosts, client config) are read only when
 * they are regular files of a sane size: reading a FIFO blocks until someone
 * writes to it, and a device such as /dev/zero never ends, and the kit must
 * never hang or exhaust memory on bad input.
 */
import { readFileSync, statSync } from "node:fs";
import { InputError } from "./errors";

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

/**
 * The one bounded read of an input file: refused unless it is a regular file
 * within `maxBytes`, and any failure is an InputError naming `key` (the
 * config key or flag that named the file) and the file's own error code.
 */
function readInputFile(path: string, key: string, maxBytes = MAX_TEXT_INPUT_BYTES): Buffer {
  const refused = unreadableInput(path, maxBytes);
  if (refused) throw new InputError({ path: key, message: refused });
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError({ path: key, message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
}

/** readInputFile as UTF-8 text. */
export function readInputText(path: string, key: string, maxBytes = MAX_TEXT_INPUT_BYTES): string {
  return readInputFile(path, key, maxBytes).toString("utf8");
}
