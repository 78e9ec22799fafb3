/**
 * `deno task bench sieve [--calls N]`: what Sieve costs at delivery. The deliver hook of
 * builtin:sieve through a PluginHost (its sandbox process, kv in the store), sequential
 * calls with a 10 KB message: for an account without an active script, and with a 50-rule
 * script active; the difference of the p50s is what the script adds per delivery. Then,
 * in process: evaluating the 50-rule script, and parsing + compiling a 100-rule script.
 *
 * @module
 */
import { printMarkdownTable } from "./table.ts";
import { percentile } from "./load.ts";
import { flag } from "./smtp.ts";
import { configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { openConfiguredStore } from "../app/store.ts";
import { storeKv } from "../cli/commands/spam.ts";
import { makeMessage } from "../tests/lib/smtp_client.ts";
import { activateScript, putScript } from "../plugins/builtin/sieve/scripts.ts";
import { compile } from "../plugins/builtin/sieve/compile.ts";
import { evaluate } from "../plugins/builtin/sieve/eval.ts";
import { inputFromBytes } from "../plugins/builtin/sieve/message.ts";

const HEAD = 'require ["fileinto", "imap4flags", "variables", "relational", "regex", ' +
  '"comparator-i;ascii-numeric", "mailbox", "copy", "subaddress", "envelope"];\n';

/** A script of `n` rules of the usual kinds (lists, senders, subjects, sizes, flags). */
export function ruleScript(n: number): string {
  const rules: string[] = [];
  for (let i = 0; i < n; i++) {
    switch (i % 8) {
      case 0:
        rules.push(
          `if header :contains "list-id" "list${i}.example.org" { fileinto "Lists/l${i}"; stop; }`,
        );
        break;
      case 1:
        rules.push(`if address :domain :is "from" "sender${i}.example" { addflag "$S${i}"; }`);
        break;
      case 2:
        rules.push(
          `if header :matches "subject" "*[ticket ${i}-*]*" { fileinto :create "T${i}"; }`,
        );
        break;
      case 3:
        rules.push(`if allof (size :over 500K, header :contains "x-kind" "k${i}") { discard; }`);
        break;
      case 4:
        rules.push(`if envelope :detail "to" "tag${i}" { fileinto "Tags/${i}"; }`);
        break;
      case 5:
        rules.push(`if header :regex "subject" "^\\\\[r${i}\\\\] ([a-z]+)" { set "w" "\${1}"; }`);
        break;
      case 6:
        rules.push(
          `if header :value "gt" :comparator "i;ascii-numeric" "x-prio${i}" "3" { addflag "\\\\Flagged"; }`,
        );
        break;
      default:
        rules.push(
          `if anyof (header :is "x-a${i}" "y", address :localpart "to" "user${i}") { redirect :copy "fwd${i}@example.net"; }`,
        );
    }
  }
  return HEAD + rules.join("\n") + "\n";
}

function p(ms: number[]): { p50: number; p99: number } {
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

export async function benchSieve(args: string[]): Promise<void> {
  const calls = Number(flag(args, "--calls") ?? 2000);
  const dir = await Deno.makeTempDir({ prefix: "bench-sieve-" });
  const config = configFromObject({
    data_dir: `${dir}/data`,
    plugins: [{ name: "sieve", module: "builtin:sieve" }],
  }, dir);
  const store = await openConfiguredStore(config);
  const host = await PluginHost.start(config, { store, strict: true });
  const kv = storeKv(store, "sieve");
  const script50 = ruleScript(50);
  await putScript(kv, "with@example.test", "rules", script50);
  await activateScript(kv, "with@example.test", "rules");
  const message = makeMessage("bench-sieve", 10_000);
  const session = { id: "bench", remoteIp: "127.0.0.1", tls: false, role: "mx" };
  const sender = { address: "alice@sender3.example", local: "alice", domain: "sender3.example" };
  const deliver = async (account: string) => {
    const [local, domain] = account.split("@");
    const t0 = performance.now();
    const o = await host.run("deliver", {
      session,
      results: [],
      source: "smtp",
      sender,
      recipient: { address: account, local, domain },
      account,
      mailbox: "INBOX",
      message,
    });
    const took = performance.now() - t0;
    if (o.results.some((r) => r.error)) throw new Error(JSON.stringify(o.results));
    return took;
  };
  const none: number[] = [], rules: number[] = [];
  try {
    for (let i = 0; i < 300; i++) await deliver(i % 2 ? "with@example.test" : "none@example.test");
    // Interleaved, so both see the same machine load.
    for (let i = 0; i < calls; i++) {
      none.push(await deliver("none@example.test"));
      rules.push(await deliver("with@example.test"));
    }
  } finally {
    await host.stop();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
  // In process: the interpreter alone.
  const compiled = compile(script50);
  const evalMs: number[] = [];
  for (let i = 0; i < calls + 200; i++) {
    const t0 = performance.now();
    const input = inputFromBytes(message, { from: sender.address, to: "with@example.test" });
    evaluate(compiled, input);
    if (i >= 200) evalMs.push(performance.now() - t0);
  }
  const script100 = ruleScript(100);
  const parseMs: number[] = [];
  for (let i = 0; i < 500; i++) {
    const src = script100 + `# ${i}\n`; // no cache anywhere
    const t0 = performance.now();
    compile(src);
    if (i >= 50) parseMs.push(performance.now() - t0);
  }
  const [a, b, e, c] = [p(none), p(rules), p(evalMs), p(parseMs)];
  const f = (x: number) => x.toFixed(3);
  printMarkdownTable(["measure", "p50 ms", "p99 ms"], [
    ["deliver hook, no active script (sandbox round trip)", f(a.p50), f(a.p99)],
    ["deliver hook, 50-rule script active", f(b.p50), f(b.p99)],
    ["added by the 50-rule script (p50 difference)", f(b.p50 - a.p50), ""],
    ["evaluate 50 rules in process (10 KB message)", f(e.p50), f(e.p99)],
    [`parse + compile a 100-rule script (${script100.length} bytes)`, f(c.p50), f(c.p99)],
  ]);
  console.log(`\n${calls} calls each; on a shared machine: figures vary with its load.`);
}
