/**
 * The one promisifier for Node-style callbacks whose value type the callee
 * fixes, as ssh2's SFTP methods have (`sftp.stat(path, cb)`): util.promisify
 * loses their overloads.
 */
export function fromCallback<T = unknown>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}
