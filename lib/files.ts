/**
 * File helpers for durable writes: the whole buffer written, a directory fsynced (so that a
 * rename in it survives a crash).
 *
 * @module
 */

/** Writes all of `b` (one write may take only part of it). */
export async function writeAll(f: Deno.FsFile, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await f.write(b.subarray(off));
}

/** fsync of a directory, so a rename in it is durable. */
export async function syncDir(dir: string): Promise<void> {
  using d = await Deno.open(dir);
  await d.sync().catch(() => {}); // some filesystems refuse to fsync a directory
}
