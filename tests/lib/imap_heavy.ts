/**
 * Heavy IMAP commands and a probe of how long they hold other clients: test data
 * (generated in memory, a few MB), MULTIAPPEND seeding, and NOOP round trips measured while
 * a command runs. Shared by tests/imap_fairness_test.ts and `deno task bench freeze`.
 *
 * @module
 */
import type { RawImap } from "../imap_helpers.ts";

const enc = new TextEncoder();

/** A message whose second part is `size` octets of base64-encoded binary. */
export function bigAttachment(size: number): Uint8Array {
  const raw = new Uint8Array(size);
  for (let i = 0; i < size; i++) raw[i] = (i * 7919) & 0xff;
  let b64 = "";
  for (let i = 0; i < size; i += 3 * 1024) {
    b64 += btoa(String.fromCharCode(...raw.subarray(i, i + 3 * 1024)));
  }
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return enc.encode(
    "From: a@example.test\r\nTo: fair@example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
      "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n" +
      "see attached\r\n--XX\r\nContent-Type: application/octet-stream\r\n" +
      `Content-Transfer-Encoding: base64\r\n\r\n${lines.join("\r\n")}\r\n--XX--\r\n`,
  );
}

/** A plain text message of about `size` octets, numbered. */
export function textMessage(n: number, size: number): Uint8Array {
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
  let body = "";
  for (let i = 0; body.length < size; i++) {
    body += words[(i * 5 + n) % words.length] + (i % 12 === 11 ? "\r\n" : " ");
  }
  return enc.encode(
    `From: s${n}@example.test\r\nTo: fair@example.test\r\nSubject: note ${n}\r\n\r\n${body}\r\n`,
  );
}

/** A short message to 100 recipients with encoded names: about 5 KB of To: field. */
export function wideMessage(n: number): Uint8Array {
  const to = Array.from(
    { length: 100 },
    (_, i) => `=?utf-8?q?R=C3=A9cipient_${i}?= <r${i}.${n}@example.test>`,
  );
  return enc.encode(
    `From: s${n}@example.test\r\nTo: ${to.join(",\r\n ")}\r\nSubject: wide ${n}\r\n\r\nhi\r\n`,
  );
}

/** MULTIAPPEND (RFC 3502) with LITERAL+ (RFC 7888): one command, many messages. */
export async function appendAll(
  c: RawImap,
  mailbox: string,
  messages: Uint8Array[],
): Promise<void> {
  const tag = c.nextTag();
  await c.write(`${tag} APPEND ${mailbox}`);
  for (const m of messages) {
    await c.write(` {${m.length}+}\r\n`);
    await c.write(m);
  }
  await c.write("\r\n");
  const r = await c.until(tag);
  if (!r.tagged.includes(" OK ")) throw new Error(`APPEND: ${r.tagged}`);
}

/**
 * Runs `heavy` on one connection while `probe` sends NOOPs; returns the longest NOOP round
 * trip (`giveUpMs` when one did not answer in time: the server froze) and how many NOOPs
 * were answered.
 */
export async function noopLatencyDuring(
  probe: RawImap,
  heavy: Promise<unknown>,
  giveUpMs = 5_000,
): Promise<{ maxMs: number; noops: number; heavyMs: number }> {
  const started = performance.now();
  let done = false;
  let heavyMs = 0;
  // When the server froze, the test fails and kills it: the reply then never comes.
  heavy.catch(() => {});
  const finished = heavy.finally(() => {
    done = true;
    heavyMs = performance.now() - started;
  }).catch(() => {});
  let maxMs = 0;
  let noops = 0;
  while (!done) {
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = await Promise.race([
      probe.command("NOOP").then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), giveUpMs)),
    ]);
    clearTimeout(timer);
    if (!answered) return { maxMs: giveUpMs, noops, heavyMs: performance.now() - started };
    maxMs = Math.max(maxMs, performance.now() - t0);
    noops++;
  }
  await finished;
  return { maxMs, noops, heavyMs };
}

/** Sends a command and resolves with its tagged reply. */
export async function send(c: RawImap, cmd: string): Promise<string> {
  const tag = c.nextTag();
  await c.write(`${tag} ${cmd}\r\n`);
  return (await c.until(tag)).tagged;
}

/** What `seedHeavy` stores: INBOX 1 (3 MiB base64 part), "Big", "Wide", a 60-letter name. */
export const LONG_NAME = "a".repeat(60);

/**
 * Fills an account for the heavy commands: INBOX message 1 with a 3 MiB binary part
 * (base64, about 4.2 MB), "Big" with 2,000 text messages of 4 KB (8 MB), "Wide" with 300
 * messages of 100 recipients each, and a mailbox with a 60-letter name.
 */
export async function seedHeavy(c: RawImap): Promise<void> {
  await appendAll(c, "INBOX", [bigAttachment(3 * 1024 * 1024)]);
  for (const name of ["Big", "Wide", LONG_NAME]) {
    const r = await c.command(`CREATE ${name}`);
    if (!r.tagged.includes(" OK ")) throw new Error(r.tagged);
  }
  const texts = Array.from({ length: 2000 }, (_, i) => textMessage(i, 4_000));
  for (let i = 0; i < texts.length; i += 500) await appendAll(c, "Big", texts.slice(i, i + 500));
  await appendAll(c, "Wide", Array.from({ length: 300 }, (_, i) => wideMessage(i)));
}

/** A heavy command: the mailbox it runs in (null: none selected) and its text. */
export interface HeavyCommand {
  select: string | null;
  command: string;
}

const orKeys = (n: number, key: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => `OR ${key(i)} ALL`).join(" ");

/** The commands of issue 13 items 2 and 3, at the bounds the server accepts. */
export const HEAVY = {
  /** LIST with `*%` 30 times: the old RegExp backtracked for minutes. */
  list: { select: null, command: `LIST "" "${"*%".repeat(30)}x"` },
  /** 1,000 BINARY.SIZE of the 3 MiB part: the old code decoded it 1,000 times. */
  fetch: { select: "INBOX", command: `FETCH 1 (${Array(1000).fill("BINARY.SIZE[2]").join(" ")})` },
  /** 100 BODY keys whose needles start like the text: real passes over 8 MB. */
  searchBody: {
    select: "Big",
    command: `SEARCH RETURN (COUNT) ${orKeys(100, (i) => `BODY "alpha bravo${i}"`)}`,
  },
  /** 100 TO keys: the old code parsed the 100-address To: field again for each. */
  searchTo: {
    select: "Wide",
    command: `SEARCH RETURN (COUNT) ${orKeys(100, (i) => `TO "nobody${i}"`)}`,
  },
} satisfies Record<string, HeavyCommand>;

/** Commands over the bounds: NO [LIMIT]. */
export const OVER_LIMIT = {
  fetch: `FETCH 1 (${Array(1001).fill("BINARY.SIZE[2]").join(" ")})`,
  search: `SEARCH ${orKeys(101, (i) => `BODY "z${i}"`)}`,
};
