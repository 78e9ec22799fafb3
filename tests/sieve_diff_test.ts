/**
 * Differential test of the Sieve interpreter against Pigeonhole's `sieve-test` (Debian
 * package dovecot-sieve): every script of tests/fixtures/sieve/scripts on every message of
 * tests/fixtures/sieve/messages, comparing the actions (mailboxes with their flags,
 * redirects, reject, discard) for every pair both accept. Skips, saying why, when
 * sieve-test is not installed. Scripts of include/personal and include/global are what
 * `include` finds (sieve-test: the `sieve` and `sieve_global` settings).
 *
 * sieve-test refuses to run as root (Dovecot drops privileges for mail access), so as
 * root it runs as nobody through setpriv, in a scratch directory nobody may write.
 */
import assert from "node:assert/strict";
import { compile } from "../plugins/builtin/sieve/compile.ts";
import { evaluate, type Resolve } from "../plugins/builtin/sieve/eval.ts";
import { inputFromBytes } from "../plugins/builtin/sieve/message.ts";

const DIR = new URL("./fixtures/sieve/", import.meta.url).pathname;
const FROM = "alice@example.org";
const TO = "bob+lists@example.com";

function which(cmd: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const p = `${dir}/${cmd}`;
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

const sieveTest = which("sieve-test");
const isRoot = Deno.uid() === 0;
const skip = !sieveTest
  ? "sieve-test not installed (apt-get install dovecot-sieve)"
  : isRoot && !which("setpriv")
  ? "running as root without setpriv"
  : null;

function files(sub: string, ext: string): string[] {
  return [...Deno.readDirSync(DIR + sub)].map((e) => e.name).filter((n) => n.endsWith(ext)).sort();
}

/** sieve-test's "Performed actions" and "Implicit keep" as canonical strings, or null. */
async function reference(work: string, script: string, message: string): Promise<string[] | null> {
  const args = ["-c", `${work}/dovecot.conf`, "-f", FROM, "-a", TO, "-r", TO, script, message];
  const cmd = isRoot
    ? new Deno.Command("setpriv", {
      args: ["--reuid=65534", "--regid=65534", "--clear-groups", sieveTest!, ...args],
      env: { HOME: work },
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command(sieveTest!, { args, env: { HOME: work }, stdout: "piped", stderr: "piped" });
  const out = await cmd.output();
  if (!out.success) return null;
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  const acts: { text: string; flags: string[] }[] = [];
  for (const l of lines) {
    const a = /^ \* (.*)$/.exec(l);
    const f = /^\s+\+ add IMAP flags: (.*)$/.exec(l);
    if (a) acts.push({ text: a[1], flags: [] });
    else if (f && acts.length) acts[acts.length - 1].flags.push(...f[1].split(" "));
  }
  return canonical(acts.map((a) => {
    const store = /^store message in folder: (.*)$/.exec(a.text);
    const redirect = /^redirect message to: <(.*)>$/.exec(a.text);
    if (store) return storeLine(store[1], a.flags);
    if (redirect) return `redirect ${redirect[1]}`;
    // sieve-test prints the vacation a script asks for; the RFC 3834 checks come later.
    if (a.text.startsWith("send vacation message")) return "vacation";
    if (a.text.startsWith("reject message")) return "reject";
    return a.text;
  }));
}

function storeLine(mailbox: string, flags: string[]): string {
  const f = [...new Set(flags.map((x) => x.toLowerCase()))].sort();
  return `store ${mailbox}` + (f.length ? ` [${f.join(" ")}]` : "");
}

/** Sorted, with "discard" dropped when the message is stored anyway. */
function canonical(acts: string[]): string[] {
  const stored = acts.some((a) => a.startsWith("store "));
  return acts.filter((a) => !(stored && a === "discard")).sort();
}

/** include (RFC 6609) from the fixture directories. */
const resolve: Resolve = (global, name) => {
  let src: string;
  try {
    src = Deno.readTextFileSync(`${DIR}include/${global ? "global" : "personal"}/${name}.sieve`);
  } catch {
    return null;
  }
  try {
    return compile(src);
  } catch (e) {
    return e as Error;
  }
};

/** Ours, or null when the script does not compile. */
function ours(src: string, message: Uint8Array): string[] | null {
  let script;
  try {
    script = compile(src);
  } catch {
    return null;
  }
  const out = evaluate(script, inputFromBytes(message, { from: FROM, to: TO }), undefined, resolve);
  return canonical(
    out.actions.map((a) => {
      switch (a.type) {
        case "keep":
        case "fileinto":
          return storeLine(a.mailbox, a.flags);
        case "redirect":
          return `redirect ${a.address}`;
        case "reject":
          return "reject";
        case "discard":
          return "discard";
        case "vacation":
          return "vacation";
      }
    }).concat(out.vacationSkipped ? ["vacation"] : []),
  );
}

Deno.test({
  name: "sieve: same actions as Pigeonhole's sieve-test on the corpus",
  ignore: skip !== null,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "sieve-diff-" });
    try {
      await Deno.chmod(work, 0o777);
      for (const where of ["personal", "global"]) {
        await Deno.mkdir(`${work}/${where}`, { mode: 0o777 });
        await Deno.chmod(`${work}/${where}`, 0o777);
        for (const f of files(`include/${where}`, ".sieve")) {
          await Deno.copyFile(`${DIR}include/${where}/${f}`, `${work}/${where}/${f}`);
          await Deno.chmod(`${work}/${where}/${f}`, 0o666);
        }
      }
      await Deno.writeTextFile(
        `${work}/dovecot.conf`,
        `mail_location = mbox:${work}/mail:INBOX=${work}/mail/inbox\n` +
          // RFC 6131 :seconds, off and at least a day by default in Pigeonhole; editheader
          // is off by default too.
          "plugin {\n  sieve_extensions = +vacation-seconds +editheader\n" +
          "  sieve_vacation_min_period = 0\n" +
          `  sieve = file:${work}/personal\n  sieve_global = ${work}/global\n}\n`,
      );
      let total = 0, both = 0, equal = 0;
      const differ: string[] = [];
      for (const s of files("scripts", ".sieve")) {
        const src = await Deno.readTextFile(`${DIR}scripts/${s}`);
        const script = `${work}/${s}`;
        await Deno.writeTextFile(script, src);
        await Deno.chmod(script, 0o666);
        for (const m of files("messages", ".eml")) {
          total++;
          const bytes = await Deno.readFile(`${DIR}messages/${m}`);
          const message = `${work}/${m}`;
          await Deno.writeFile(message, bytes);
          await Deno.chmod(message, 0o666);
          const [ref, mine] = [await reference(work, script, message), ours(src, bytes)];
          if (ref === null || mine === null) {
            if (ref !== mine) {
              differ.push(`${s} × ${m}: accepted only by ${ref ? "sieve-test" : "us"}`);
            }
            continue;
          }
          both++;
          if (Deno.env.get("SIEVE_DIFF_VERBOSE")) console.log(s, m, JSON.stringify(ref));
          if (JSON.stringify(ref) === JSON.stringify(mine)) equal++;
          else {differ.push(
              `${s} × ${m}: sieve-test ${JSON.stringify(ref)} ours ${JSON.stringify(mine)}`,
            );}
        }
      }
      console.log(
        `sieve differential: ${equal}/${both} pairs equal (${total} pairs, ${
          total - both
        } not accepted by both)`,
      );
      for (const d of differ) console.log("  " + d);
      assert.equal(equal, both, differ.join("\n"));
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

if (skip) console.log(`sieve differential skipped: ${skip}`);
