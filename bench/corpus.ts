/**
 * A generated mail corpus for benchmarks and tests that need many realistic messages:
 * ~10 KB each, words drawn from a large vocabulary with a Zipf-like skew (as in real text,
 * so the full-text index sees realistic trigram variety), a mix of plain text,
 * quoted-printable, multipart/alternative with HTML, and a base64 attachment. Deterministic
 * for a seed.
 *
 * @module
 */

/** A tiny deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = (
  "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo fu ga ge gi go gu ha he hi ho " +
  "la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so " +
  "su ta te ti to tu va ve vi vo wa we wi ze zo str tion ment ing er an en on al ex"
).split(" ");

/** A vocabulary of `n` distinct pseudo-words, most frequent first. */
function vocabulary(n: number, random: () => number): string[] {
  const seen = new Set<string>();
  while (seen.size < n) {
    const len = 1 + Math.floor(random() * 4);
    let w = "";
    for (let i = 0; i < len; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    seen.add(w);
  }
  return [...seen];
}

/** Options of `generateMessages`. */
export interface CorpusOptions {
  /** Approximate octets per message (default 10,240). */
  size?: number;
  /** Seed (default 1). */
  seed?: number;
}

/**
 * `count` messages as strings with LF line endings (mbox-ready: no body line starts with
 * "From "). Message i has `Subject: corpus message i` and the unique word `uniq<i>x` in
 * its text body, so a test can search for exactly one message.
 */
export function* generateMessages(count: number, opts: CorpusOptions = {}): Generator<string> {
  const size = opts.size ?? 10_240;
  const random = rng(opts.seed ?? 1);
  const vocab = vocabulary(20_000, random);
  // Zipf-like: index = floor(n^u) - 1 skews towards the first words.
  const word = () => vocab[Math.min(vocab.length - 1, Math.floor(vocab.length ** random()) - 1)];
  const paragraph = (chars: number) => {
    const lines: string[] = [];
    let line = "";
    let total = 0;
    while (total < chars) {
      const w = word();
      if (line.length + w.length + 1 > 72) {
        lines.push(line);
        total += line.length + 1;
        line = "";
      }
      line = line ? `${line} ${w}` : w.charAt(0).toUpperCase() + w.slice(1);
    }
    if (line) lines.push(line);
    return lines.join("\n");
  };
  for (let i = 0; i < count; i++) {
    const date = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toUTCString().replace(
      "GMT",
      "+0000",
    );
    const head = `From: ${word()} ${word()} <sender${i % 97}@example.org>\n` +
      `To: Reader <reader@example.test>\nSubject: corpus message ${i} ${word()} ${word()}\n` +
      `Date: ${date}\nMessage-ID: <corpus.${i}@example.org>\nMIME-Version: 1.0\n`;
    const text = `Hello,\n\nuniq${i}x ${paragraph(size * 0.6)}\n\nRegards\n`;
    const kind = i % 4;
    if (kind === 0) {
      yield `${head}Content-Type: text/plain; charset=utf-8\n\n${paragraph(size * 0.3)}\n${text}`;
    } else if (kind === 1) {
      const qp = text.replaceAll("=", "=3D").replace(/ \n/g, "=20\n");
      yield `${head}Content-Type: text/plain; charset=iso-8859-1\n` +
        `Content-Transfer-Encoding: quoted-printable\n\n${qp}`;
    } else if (kind === 2) {
      const html = `<html><body><p>${text.replaceAll("\n\n", "</p>\n<p>")}</p></body></html>`;
      yield `${head}Content-Type: multipart/alternative; boundary="alt${i}"\n\n` +
        `--alt${i}\nContent-Type: text/plain; charset=utf-8\n\n${text}\n` +
        `--alt${i}\nContent-Type: text/html; charset=utf-8\n\n${html}\n--alt${i}--\n`;
    } else {
      const bin = new Uint8Array(Math.floor(size * 0.2));
      for (let b = 0; b < bin.length; b++) bin[b] = Math.floor(random() * 256);
      const b64 = btoa(String.fromCharCode(...bin)).replace(/.{76}/g, "$&\n");
      yield `${head}Content-Type: multipart/mixed; boundary="mix${i}"\n\n` +
        `--mix${i}\nContent-Type: text/plain; charset=utf-8\n\n${text}\n` +
        `--mix${i}\nContent-Type: application/octet-stream; name="data${i}.bin"\n` +
        `Content-Transfer-Encoding: base64\n` +
        `Content-Disposition: attachment; filename="data${i}.bin"\n\n${b64}\n--mix${i}--\n`;
    }
  }
}

/** Writes `count` generated messages as an mbox file (RFC 4155). */
export async function writeCorpusMbox(
  path: string,
  count: number,
  opts: CorpusOptions = {},
): Promise<void> {
  await Deno.writeTextFile(path, "");
  let chunk = "";
  let i = 0;
  for (const m of generateMessages(count, opts)) {
    chunk += `From sender@example.org Mon Jan  1 00:00:00 2024\n${m}\n`;
    if (++i % 500 === 0) {
      await Deno.writeTextFile(path, chunk, { append: true });
      chunk = "";
    }
  }
  await Deno.writeTextFile(path, chunk, { append: true });
}
