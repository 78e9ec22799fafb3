/**
 * `deno task bench encrypt`: what encryption at rest (builtin:encrypt) costs per message.
 *
 * For 10 KB and 1 MB messages and two kinds of recipient key (curve25519, RSA 3072), p50
 * and p99 of:
 * - `encrypt`: parsing, OpenPGP encryption and PGP/MIME composition (`encryptMessage`, the
 *   code the plugin process runs for each copy), measured in this process;
 * - `deliver hook`: one `deliver` call through the plugin host to the sandboxed plugin
 *   process and back (the message crosses the JSON-lines channel both ways, the key comes
 *   from the store's kv): what a delivery waits for.
 *
 * `deno task bench encrypt [--quick]`
 *
 * @module
 */
import * as openpgp from "openpgp";
import { configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { kvNamespace } from "../plugins/engine/services.ts";
import { openConfiguredStore } from "../app/store.ts";
import { encryptMessage } from "../plugins/builtin/encrypt/encrypt.ts";
import { kvKeyFor } from "../plugins/builtin/encrypt/keys.ts";

/** A plain-text message of about `size` bytes (CRLF lines of 76 characters). */
function message(size: number): Uint8Array {
  const head = "From: Bob <bob@example.net>\r\nTo: u@example.test\r\nSubject: bench\r\n" +
    "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <b@example.net>\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod ";
  let body = "";
  while (head.length + body.length < size) body += words.repeat(2).slice(0, 76) + "\r\n";
  return new TextEncoder().encode(head + body);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(5, n); i++) await fn(); // warm up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

interface Row {
  key: string;
  size: string;
  encP50: number;
  encP99: number;
  hookP50: number;
  hookP99: number;
  outBytes: number;
}

/** Runs the benchmark and prints the table. */
export async function benchEncrypt(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const dir = await Deno.makeTempDir({ prefix: "bench-encrypt-" });
  const config = configFromObject({
    data_dir: dir,
    plugins: [{ name: "encrypt", module: "builtin:encrypt", timeout_ms: 30_000, memory_mb: 512 }],
  }, dir);
  const store = await openConfiguredStore(config);
  const host = await PluginHost.start(config, { store, strict: true });
  const rows: Row[] = [];
  try {
    const keys: Array<[string, openpgp.KeyOptions]> = [
      ["curve25519", { type: "curve25519", userIDs: [{ email: "u@example.test" }] }],
      ["rsa3072", { type: "rsa", rsaBits: 3072, userIDs: [{ email: "u@example.test" }] }],
    ];
    for (const [name, opts] of keys) {
      const { publicKey } = await openpgp.generateKey({ ...opts, format: "armored" });
      await store.kvSet(kvNamespace("encrypt"), kvKeyFor("u@example.test"), publicKey);
      for (const [label, size, n] of [["10 KB", 10_240, 200], ["1 MB", 1_048_576, 30]] as const) {
        const raw = message(size);
        const count = quick ? Math.ceil(n / 10) : n;
        let outBytes = 0;
        const enc = await time(count, async () => {
          const r = await encryptMessage(raw, publicKey, { keepSubject: false });
          if (r.kind === "encrypted") outBytes = r.message.length;
        });
        const hook = await time(count, async () => {
          const out = await host.run("deliver", {
            session: { id: "bench", remoteIp: "127.0.0.1", tls: false },
            source: "smtp",
            account: "u@example.test",
            sender: { address: "bob@example.net", local: "bob", domain: "example.net" },
            recipient: { address: "u@example.test", local: "u", domain: "example.test" },
            mailbox: "INBOX",
            message: raw,
          });
          if (!out.message) throw new Error(`not encrypted: ${JSON.stringify(out.results)}`);
        });
        rows.push({
          key: name,
          size: label,
          encP50: percentile(enc, 0.5),
          encP99: percentile(enc, 0.99),
          hookP50: percentile(hook, 0.5),
          hookP99: percentile(hook, 0.99),
          outBytes,
        });
      }
    }
  } finally {
    await host.stop();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
  const ms = (x: number) => x.toFixed(2).padStart(9);
  console.log(
    "key          size    encrypt p50   p99 (ms)   deliver hook p50   p99 (ms)   stored/original",
  );
  for (const r of rows) {
    const orig = r.size === "1 MB" ? 1_048_576 : 10_240;
    console.log(
      `${r.key.padEnd(12)} ${r.size.padEnd(6)} ${ms(r.encP50)}   ${ms(r.encP99)}   ${
        ms(r.hookP50)
      }          ${ms(r.hookP99)}   ${(r.outBytes / orig).toFixed(2)}x`,
    );
  }
}
