/**
 * A streaming tar (POSIX ustar) writer and reader for regular files: what backups are made
 * of, so that `tar -xzf` can open one without denomail.
 *
 * - Sizes past 8 GiB use the GNU base-256 size field (a 10 GB database fits).
 * - Names longer than 100 bytes are split into ustar's prefix/name at a "/".
 * - The reader takes a byte stream in any chunking and hands each entry's data on in chunks
 *   as they arrive: nothing is held beyond one 512-byte block and the current chunk.
 *
 * @module
 */

const BLOCK = 512;
const enc = new TextEncoder();
const dec = new TextDecoder();

function put(h: Uint8Array, at: number, len: number, s: string): void {
  const b = enc.encode(s);
  if (b.length > len) throw new Error(`tar: field too long: ${s}`);
  h.set(b, at);
}

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, "0") + "\0";
}

/** The 512-byte ustar header of a regular file. */
export function tarHeader(name: string, size: number, mtimeMs = 0): Uint8Array {
  const h = new Uint8Array(BLOCK);
  let prefix = "";
  let base = name;
  if (enc.encode(name).length > 100) {
    const cut = name.lastIndexOf("/", 155);
    if (cut <= 0 || enc.encode(name.slice(cut + 1)).length > 100) {
      throw new Error(`tar: name too long: ${name}`);
    }
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  put(h, 0, 100, base);
  put(h, 100, 8, octal(0o600, 8));
  put(h, 108, 8, octal(0, 8));
  put(h, 116, 8, octal(0, 8));
  if (size < 8 ** 11) put(h, 124, 12, octal(size, 12));
  else {
    // GNU base-256: high bit of the first byte set, the number big-endian in the rest.
    h[124] = 0x80;
    let n = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(n & 0xffn);
      n >>= 8n;
    }
  }
  put(h, 136, 12, octal(Math.floor(mtimeMs / 1000), 12));
  h[156] = 0x30; // '0': regular file
  put(h, 257, 6, "ustar\0");
  put(h, 263, 2, "00");
  put(h, 345, 155, prefix);
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  const sum = h.reduce((a, b) => a + b, 0);
  put(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** Zero bytes that pad `size` bytes of data to a whole block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - size % BLOCK) % BLOCK);
}

/** The two zero blocks that end an archive. */
export const TAR_END = new Uint8Array(2 * BLOCK);

function field(h: Uint8Array, at: number, len: number): string {
  const s = h.subarray(at, at + len);
  const z = s.indexOf(0);
  return dec.decode(z < 0 ? s : s.subarray(0, z));
}

function parseHeader(h: Uint8Array): { name: string; size: number; type: string } {
  const stored = field(h, 148, 8).trim();
  const copy = h.slice();
  copy.fill(0x20, 148, 156);
  const sum = copy.reduce((a, b) => a + b, 0);
  if (parseInt(stored, 8) !== sum) throw new Error("tar: a header's checksum is wrong");
  let size = 0;
  if (h[124] & 0x80) {
    for (let i = 125; i < 136; i++) size = size * 256 + h[i];
  } else size = parseInt(field(h, 124, 12).trim() || "0", 8);
  const prefix = field(h, 345, 155);
  const name = field(h, 0, 100);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size,
    type: String.fromCharCode(h[156] || 0x30),
  };
}

/** One entry as the reader hands it out: read `data` to the end before the next entry. */
export interface TarEntry {
  name: string;
  size: number;
  /** "0" regular file, "5" directory, ... */
  type: string;
  data: AsyncIterable<Uint8Array>;
}

/**
 * Reads a tar stream entry by entry. `onBytes` sees every byte of the archive as read (for
 * a digest of the whole). Throws on a truncated archive.
 */
export async function* readTar(
  input: AsyncIterable<Uint8Array>,
  onBytes: (b: Uint8Array) => void = () => {},
): AsyncGenerator<TarEntry> {
  const it = input[Symbol.asyncIterator]();
  let buf: Uint8Array = new Uint8Array(0);
  /** Up to `n` bytes (at least one unless the stream ended). */
  const take = async (n: number): Promise<Uint8Array> => {
    while (buf.length === 0) {
      const r = await it.next();
      if (r.done) return new Uint8Array(0);
      buf = r.value;
    }
    const out = buf.subarray(0, Math.min(n, buf.length));
    buf = buf.subarray(out.length);
    onBytes(out);
    return out;
  };
  const exactly = async (n: number): Promise<Uint8Array> => {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = await take(n - at);
      if (c.length === 0) throw new Error("tar: the archive is truncated");
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  for (;;) {
    const h = await exactly(BLOCK);
    if (h.every((b) => b === 0)) return; // end of archive
    const { name, size, type } = parseHeader(h);
    let left = size;
    const data = (async function* () {
      while (left > 0) {
        const c = await take(Math.min(left, 1 << 20));
        if (c.length === 0) throw new Error("tar: the archive is truncated");
        left -= c.length;
        yield c.slice(); // a copy: the caller may keep it past the next read
      }
    })();
    yield { name, size, type, data };
    for await (const _ of data) { /* skip what the caller did not read */ }
    if (left > 0) throw new Error("tar: the archive is truncated");
    await exactly((BLOCK - size % BLOCK) % BLOCK);
  }
}
