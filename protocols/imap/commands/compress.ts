/**
 * COMPRESS (RFC 4978): DEFLATE in both directions from the tagged OK on.
 *
 * @module
 */
import { Code } from "../codes.ts";
import { command } from "../context.ts";
import { bad, no } from "../errors.ts";

/** RFC 4978 §3: COMPRESS mechanism; only DEFLATE (RFC 1951, raw, no zlib header). */
export const COMPRESS = command({
  parse(r) {
    r.space();
    return r.atom("a compression mechanism").toUpperCase();
  },
  run(ctx, mechanism) {
    // RFC 4978 §3: a second COMPRESS is NO [COMPRESSIONACTIVE].
    if (ctx.conn.isCompressed) throw no("Compression is already active", Code.COMPRESSIONACTIVE);
    if (mechanism !== "DEFLATE") throw bad(`Unknown compression mechanism ${mechanism}`);
    return Promise.resolve({
      text: "DEFLATE active",
      // The OK goes out uncompressed; everything after it, both ways, is compressed.
      after: () => Promise.resolve(ctx.conn.startCompression()),
    });
  },
});
