/**
 * `deno run -A bench/msgfuzz/live.ts <seed-dir> [--n 5] [--seed 1]` (or `deno task bench
 * msgfuzz-live ...`; `--raw --n 1` sends the files as they are, e.g. a findings folder): the mutants of run.ts against a running `denomail serve` process with
 * builtin:sieve (a script using every test) and builtin:spam. Each mutant is delivered over
 * SMTP (the MX listener) and APPENDed over IMAP, then read back: IMAP FETCH ENVELOPE,
 * BODYSTRUCTURE, BODY[...] sections, BINARY[...]; IMAP SEARCH on text keys; JMAP Email/get
 * of every body and header view, Email/query text filters, Email/parse of the uploaded
 * blob; POP3 TOP. Reported: a server that dies or stops answering, malformed IMAP, a BODY[]
 * literal whose length is not RFC822.SIZE, `[SERVERBUG]`, HTTP 5xx or a JMAP error, and any
 * request slower than 250 ms + 100 ms per MB.
 *
 * @module
 */
import { mutate, prng } from "../../tests/lib/msg_mutate.ts";
import { SIEVE_ALL } from "../../tests/lib/msg_paths.ts";
import { Imap, Reader, smtpDeliver } from "./wire.ts";
import { cli, startDenomailProcess } from "../../tests/lib/server_process.ts";
import { basic, JmapClient, type Json } from "../../tests/lib/jmap_client.ts";
import { BODY_PROPERTIES } from "../../protocols/http/jmap/email_body.ts";
import { flag } from "../smtp.ts";

const USER = "fuzz@example.test";
const PASS = "fuzz-pass-123";
const enc = new TextEncoder();

/** A flag's value (bench/smtp.ts `flag`), or `dflt`. */
const arg = (args: string[], name: string, dflt: string) => flag(args, name) ?? dflt;

function crlf(raw: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 10 && raw[i - 1] !== 13) out.push(13);
    out.push(raw[i]);
  }
  return new Uint8Array(out);
}

const SEARCHES = [
  'TEXT "unsubscribe"',
  'BODY "click here"',
  'HEADER "Subject" "re"',
  'SUBJECT "=?utf-8?"',
  'FROM "example"',
  'HEADER "Content-Type" "multipart"',
  'TEXT "\u00e9"',
  "OR BODY x TEXT y",
];
const FETCHES = [
  "(ENVELOPE BODYSTRUCTURE RFC822.SIZE BODY.PEEK[])",
  "(BODY FLAGS INTERNALDATE)",
  "(BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2] BODY.PEEK[2.MIME])",
  "(BODY.PEEK[1.1] BODY.PEEK[1.2.MIME] BODY.PEEK[2.1.1] BODY.PEEK[3])",
  "(BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])",
  "(BODY.PEEK[1.HEADER] BODY.PEEK[1.TEXT] BODY.PEEK[2.HEADER.FIELDS.NOT (TO)])",
  "(BINARY.PEEK[1] BINARY.SIZE[1])",
  "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1.1])",
  "(BODY.PEEK[1]<0.100> BINARY.PEEK[1]<10.20>)",
];
/** RFC 8621 §4.1.2: each form on the fields it is allowed for. */
const HEADER_PROPS = [
  ...["From", "To", "Cc", "Reply-To"].flatMap((f) =>
    ["asRaw", "asAddresses", "asGroupedAddresses"].map((a) => `header:${f}:${a}`)
  ),
  "header:Subject:asText",
  "header:Subject:asRaw",
  "header:X-Mailer:asText",
  "header:Message-ID:asMessageIds",
  "header:References:asMessageIds:all",
  "header:Date:asDate",
  "header:Resent-Date:asDate:all",
  "header:List-Post:asURLs",
  "header:List-Unsubscribe:asURLs",
];

export async function benchMsgFuzzLive(args: string[]): Promise<void> {
  const dir = args.find((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
  if (!dir) {
    console.error("msgfuzz-live: usage: msgfuzz-live <seed-dir> [--n N] [--seed S]");
    Deno.exit(2);
  }
  const n = Number(arg(args, "--n", "5"));
  const base = Number(arg(args, "--seed", "1"));
  const only = arg(args, "--only", "");
  const raw = args.includes("--raw");
  const out = arg(args, "--out", "/tmp/msgfuzz-live-findings");
  await Deno.mkdir(out, { recursive: true });
  const d = await startDenomailProcess({
    prefix: "denomail-msgfuzz-",
    listen: ["smtp", "imap", "pop3", "http"],
    user: [USER, PASS],
    tables: '[[plugins]]\nname = "sieve"\nmodule = "builtin:sieve"\n' +
      '[[plugins]]\nname = "spam"\nmodule = "builtin:spam"\n',
  });
  const findings: string[] = [];
  const stats = new Map<string, { n: number; maxMs: number; maxMsPerMb: number }>();
  try {
    await Deno.writeTextFile(`${d.dir}/all.sieve`, SIEVE_ALL);
    const sieve = (...a: string[]) => cli(["sieve", ...a, "--config", d.configPath]);
    for (
      const r of [
        await sieve("put", USER, "all", `${d.dir}/all.sieve`),
        await sieve("activate", USER, "all"),
      ]
    ) {
      if (r.code !== 0) throw new Error(`sieve: ${r.stderr}`);
    }
    const p = d.proc.ports;
    const jmap = new JmapClient(`http://127.0.0.1:${p.http}`, basic(USER, PASS));
    const session = await jmap.session();
    const accountId = Object.keys(session.accounts)[0];
    const files = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
    console.log(`msgfuzz-live: ${files.length} seeds x ${n} mutants, PRNG seed ${base}`);
    let mutants = 0;
    for (const [fi, file] of files.entries()) {
      const seed = crlf(Deno.readFileSync(`${dir}/${file}`));
      for (let i = 0; i < n; i++) {
        if (only && only !== `${file}:${i}`) continue;
        // --raw: the files are mutants already (a findings folder), sent as they are.
        const { names, bytes } = raw
          ? { names: ["raw"], bytes: Deno.readFileSync(`${dir}/${file}`) }
          : mutate(seed, prng(base * 1_000_003 + fi * 10_007 + i));
        mutants++;
        const mb = bytes.length / 1e6;
        const tag = `${file}:${i} [${names.join("+")}] ${mb.toFixed(2)} MB`;
        const problems: string[] = [];
        /** Times one request; notes it when slow or when it throws. */
        const timed = async <T>(what: string, f: () => Promise<T>): Promise<T | null> => {
          const t0 = performance.now();
          try {
            return await f();
          } catch (e) {
            problems.push(`${what}: ${(e as Error).message}`);
            return null;
          } finally {
            const ms = performance.now() - t0;
            const s = stats.get(what.split(" ")[0]) ??
              { n: 0, maxMs: 0, maxMsPerMb: 0 };
            s.n++;
            s.maxMs = Math.max(s.maxMs, ms);
            s.maxMsPerMb = Math.max(s.maxMsPerMb, ms / Math.max(mb, 0.01));
            stats.set(what.split(" ")[0], s);
            if (ms > 250 + 100 * mb) problems.push(`${what}: SLOW ${ms.toFixed(0)} ms`);
          }
        };
        // 1. SMTP to the MX listener (sieve and spam run on it).
        const smtp = await timed(
          "smtp",
          () => smtpDeliver(p.smtp, "someone@sender.example", USER, bytes),
        );
        if (smtp && smtp.code >= 400 && smtp.code < 500) {
          problems.push(`smtp 4xx: ${smtp.text.trim()}`);
        }
        // 2. IMAP APPEND, FETCH every view, SEARCH.
        const imap = await timed("imap-login", () => Imap.open(p.imap, USER, PASS));
        if (imap) {
          try {
            await imap.cmd("SELECT INBOX");
            const app = await timed("imap-append", () => imap.cmd("APPEND INBOX", bytes));
            if (app && !/ OK/.test(app.status)) {
              problems.push(`append: ${app.status.slice(0, 200)}`);
            }
            for (const f of FETCHES) {
              const r = await timed(`imap-fetch ${f}`, () => imap.cmd(`FETCH 1:* ${f}`));
              if (!r) continue;
              problems.push(...r.problems);
              if (/SERVERBUG|^\S+ BAD/.test(r.status)) problems.push(`fetch ${f}: ${r.status}`);
              for (const u of r.untagged) {
                const size = /RFC822\.SIZE (\d+)/.exec(u.text);
                const body = /BODY\[\] \{(\d+)\}/.exec(u.text);
                if (size && body && size[1] !== body[1]) {
                  problems.push(`BODY[] {${body[1]}} but RFC822.SIZE ${size[1]}`);
                }
              }
            }
            for (const s of SEARCHES) {
              const r = await timed(
                `imap-search ${s}`,
                () => imap.cmd(`UID SEARCH CHARSET UTF-8 ${s}`),
              );
              if (!r) continue;
              problems.push(...r.problems);
              if (!/^\S+ OK/.test(r.status)) problems.push(`search ${s}: ${r.status}`);
            }
          } finally {
            imap.close();
          }
        }
        // 3. JMAP.
        const q = await timed(
          "jmap-query",
          () =>
            jmap.api([["Email/query", {
              accountId,
              sort: [{ property: "receivedAt", isAscending: false }],
            }, "0"]]),
        );
        const ids: string[] = q?.[0]?.[1]?.ids ?? [];
        if (ids.length) {
          const get = await timed("jmap-get", () =>
            jmap.api([["Email/get", {
              accountId,
              ids,
              properties: [
                "id",
                "blobId",
                "size",
                "subject",
                "from",
                "to",
                "sentAt",
                "messageId",
                "references",
                "preview",
                "hasAttachment",
                "bodyStructure",
                "textBody",
                "htmlBody",
                "attachments",
                "bodyValues",
                ...HEADER_PROPS,
              ],
              bodyProperties: BODY_PROPERTIES,
              fetchAllBodyValues: true,
              maxBodyValueBytes: 0,
            }, "0"]]));
          if (get) {
            const [name, r] = get[0];
            if (name !== "Email/get") problems.push(`jmap-get: ${JSON.stringify(r).slice(0, 200)}`);
            else for (const e of r.list as Json[]) problems.push(...checkEmail(e));
          }
          for (
            const filter of [{ text: "unsubscribe" }, { body: "click" }, { subject: "re" }, {
              from: "example",
            }, { header: ["Subject", "x"] }]
          ) {
            const r = await timed(
              `jmap-filter ${Object.keys(filter)[0]}`,
              () => jmap.api([["Email/query", { accountId, filter }, "0"]]),
            );
            if (r && r[0][0] !== "Email/query") {
              problems.push(`jmap filter: ${JSON.stringify(r[0]).slice(0, 200)}`);
            }
          }
          // The webmail's list view (web/src/jmap.ts): query and get by result reference.
          const list = await timed("jmap-webmail-list", () =>
            jmap.api([
              ["Email/query", { accountId, collapseThreads: true, calculateTotal: true }, "q"],
              ["Email/get", {
                accountId,
                "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
                properties: [
                  "from",
                  "subject",
                  "receivedAt",
                  "preview",
                  "keywords",
                  "hasAttachment",
                  "threadId",
                ],
              }, "g"],
            ]));
          if (list && list[1]?.[0] !== "Email/get") {
            problems.push(`webmail list: ${JSON.stringify(list).slice(0, 200)}`);
          }
          // Every part's blob, downloaded as the webmail's attachment links do.
          const parts: Json[] = get?.[0]?.[0] === "Email/get"
            ? (get[0][1].list as Json[]).flatMap((
              e,
            ) => [...e.textBody, ...e.htmlBody, ...e.attachments])
            : [];
          for (const part of parts.slice(0, 10)) {
            await timed("jmap-download", async () => {
              const res = await jmap.fetch(
                `/jmap/download/${accountId}/${part.blobId}/x?accept=application/octet-stream`,
              );
              await res.arrayBuffer();
              if (res.status !== 200) problems.push(`download ${part.partId}: ${res.status}`);
            });
          }
          // Empty the mailbox for the next mutant (SEARCH cost grows with its size).
          await timed(
            "jmap-destroy",
            () => jmap.api([["Email/set", { accountId, destroy: ids }, "0"]]),
          );
        }
        const up = await timed("jmap-upload", async () => {
          const res = await jmap.fetch(`/jmap/upload/${accountId}/`, {
            method: "POST",
            body: bytes as BodyInit,
          });
          const j = await res.json();
          if (res.status !== 201) throw new Error(`upload ${res.status}`);
          return j;
        });
        if (up) {
          const r = await timed(
            "jmap-parse",
            () =>
              jmap.api([["Email/parse", {
                accountId,
                blobIds: [up.blobId],
                fetchAllBodyValues: true,
              }, "0"]]),
          );
          if (r) {
            const [name, res] = r[0];
            const e = res?.parsed?.[up.blobId];
            if (name !== "Email/parse" || (!e && !res?.notParsable?.includes(up.blobId))) {
              problems.push(`jmap-parse: ${JSON.stringify(r[0]).slice(0, 200)}`);
            } else if (e) problems.push(...checkEmail(e).map((x) => `parse: ${x}`));
          }
        }
        // 4. POP3 TOP of whatever SMTP delivered (the mailbox is empty again, so: the next).
        await timed("pop3", () => pop3Top(p.pop3));
        // 5. Still alive?
        const st = await Promise.race([
          d.proc.child.status,
          new Promise((r) => setTimeout(() => r(null), 10)),
        ]);
        if (st !== null) problems.push(`SERVER EXITED ${JSON.stringify(st)}`);
        const refusals = [...d.proc.log().matchAll(/SERVERBUG|uncaught|Uncaught|panicked/g)].length;
        if (refusals) problems.push(`server log mentions ${refusals} internal errors`);
        if (problems.length) {
          findings.push(tag);
          console.log(`  ${tag}:\n    ${problems.join("\n    ")}`);
          await Deno.writeFile(`${out}/${file}.${i}.${names.join("+")}.eml`, bytes);
        }
        if (st !== null) return;
      }
    }
    console.log(`${mutants} mutants, ${findings.length} with problems`);
    console.log("request            count  max ms  max ms/MB");
    for (const [k, s] of stats) {
      console.log(
        `${k.padEnd(18)} ${String(s.n).padStart(5)} ${s.maxMs.toFixed(0).padStart(7)} ${
          s.maxMsPerMb.toFixed(0).padStart(10)
        }`,
      );
    }
  } finally {
    await Deno.writeTextFile(`${out}/server.log`, d.proc.log());
    await d.stop();
  }
}

/** RFC 8621 §4.1 types of the properties asked for. */
function checkEmail(e: Json): string[] {
  const p: string[] = [];
  const isStr = (v: unknown) => typeof v === "string";
  if (!isStr(e.preview)) p.push("preview not a string");
  if (typeof e.hasAttachment !== "boolean") p.push("hasAttachment not boolean");
  if (e.subject !== null && !isStr(e.subject)) p.push("subject not string|null");
  for (const k of ["textBody", "htmlBody", "attachments"]) {
    if (!(k in e)) continue;
    if (!Array.isArray(e[k])) p.push(`${k} not a list`);
    else {for (const part of e[k]) {
        // Email/parse of an upload gives parts no blobId (email_copy.ts dropPartBlobIds).
        if (!isStr(part.partId) || !(isStr(part.blobId) || part.blobId === null)) {
          p.push(`${k} part without partId/blobId`);
        }
      }}
  }
  if ("bodyStructure" in e && (typeof e.bodyStructure !== "object" || e.bodyStructure === null)) {
    p.push("bodyStructure not an object");
  }
  for (const [k, v] of Object.entries(e.bodyValues ?? {}) as [string, Json][]) {
    if (
      !isStr(v.value) || typeof v.isEncodingProblem !== "boolean" ||
      typeof v.isTruncated !== "boolean"
    ) {
      p.push(`bodyValues ${k} malformed`);
    }
  }
  for (const k of ["from", "to"]) {
    const v = e[k];
    if (
      v !== null &&
      (!Array.isArray(v) ||
        v.some((a: Json) => !isStr(a.email) || (a.name !== null && !isStr(a.name))))
    ) {
      p.push(`${k} not EmailAddress[]|null`);
    }
  }
  if (
    e.sentAt !== null &&
    !(isStr(e.sentAt) && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(e.sentAt))
  ) {
    p.push(`sentAt ${e.sentAt} not a Date`);
  }
  if (
    e.headers &&
    !(Array.isArray(e.headers) && e.headers.every((h: Json) => isStr(h.name) && isStr(h.value)))
  ) {
    p.push("headers malformed");
  }
  return p;
}

/** POP3: log in, TOP 1 5 when there is a message; the multi-line answer must end. */
async function pop3Top(port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const r = new Reader(conn, 30_000);
  const say = async (l: string) => {
    await conn.write(enc.encode(l + "\r\n"));
    return await r.line();
  };
  try {
    await r.line();
    await say(`USER ${USER}`);
    const pass = await say(`PASS ${PASS}`);
    if (!pass.startsWith("+OK")) throw new Error(`PASS: ${pass}`);
    const stat = await say("STAT");
    const count = Number(stat.split(" ")[1] ?? 0);
    for (let m = 1; m <= Math.min(count, 3); m++) {
      const top = await say(`TOP ${m} 5`);
      if (!top.startsWith("+OK")) throw new Error(`TOP: ${top}`);
      while ((await r.line()) !== ".") { /* the lines */ }
      await say(`DELE ${m}`);
    }
    await say("QUIT");
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

if (import.meta.main) await benchMsgFuzzLive(Deno.args);
