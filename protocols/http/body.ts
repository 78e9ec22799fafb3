/**
 * Request bodies read with a size cap: a declared Content-Length over the cap is refused
 * before a byte is read, and a body that runs past it (chunked) is cut off and cancelled,
 * so no request can make the server buffer more than `max` bytes.
 *
 * @module
 */

/** The body's bytes, or null when it is (or declares itself) larger than `max`. */
export async function readBody(req: Request, max: number): Promise<Uint8Array | null> {
  const declared = req.headers.get("content-length");
  if (declared !== null && (!/^\d{1,15}$/.test(declared) || Number(declared) > max)) {
    await req.body?.cancel().catch(() => {});
    return null;
  }
  if (!req.body) return new Uint8Array();
  // One buffer that doubles, not a list of the chunks: a chunked body (RFC 9112 §7.1) comes
  // as one chunk per chunk-size line, and each kept as an array of its own cost some 200
  // bytes of heap, so 1-byte chunks made the server hold ~200 times what it was sent.
  // Only a first slice of a declared length is set aside: a client that declares the whole
  // limit and sends nothing must not make the server hold the limit.
  let buf = new Uint8Array(Math.min(max, Number(declared ?? 0), FIRST_BYTES));
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    if (size + value.byteLength > buf.length) {
      const grown = new Uint8Array(
        Math.min(max, Math.max(buf.length * 2, size + value.byteLength, FIRST_BYTES)),
      );
      grown.set(buf.subarray(0, size));
      buf = grown;
    }
    buf.set(value, size);
    size += value.byteLength;
  }
  return size === buf.length ? buf : buf.subarray(0, size);
}

/** Bytes set aside before any arrive (and the least a buffer grows to). */
const FIRST_BYTES = 64 * 1024;
