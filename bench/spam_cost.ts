/**
 * The cost of the whole spam chain (auth + spam plugins through the plugin host) per 10 KB
 * message, for `deno task bench spam`.
 *
 * @module
 */
import { join } from "node:path";
import { configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { openConfiguredStore } from "../app/store.ts";
import { readSpamOptions } from "../plugins/builtin/spam/options.ts";
import { BayesModel } from "../plugins/builtin/spam/model.ts";
import { scanMessage } from "../plugins/builtin/spam/score.ts";
import { storeKv } from "../cli/commands/spam.ts";
import { dkimSigned, testDkimKey } from "../tests/spam_helpers.ts";
import type { DnsLookup } from "../plugins/engine/services.ts";
import type { Sample } from "./spam_splits.ts";

/** A ~10 KB message made from a corpus message (its body repeated or cut). */
function tenKb(raw: Uint8Array): Uint8Array {
  const text = new TextDecoder("latin1").decode(raw).replace(/^From .*\n/, "");
  const split = text.search(/\r?\n\r?\n/);
  const head = split < 0 ? text : text.slice(0, split + 2);
  let body = split < 0 ? "" : text.slice(split + 2);
  if (body.trim() === "") body = "filler text for the benchmark\n";
  while (head.length + body.length < 10_240) body += body;
  return new TextEncoder().encode((head + body).slice(0, 10_240));
}

/**
 * CPU milliseconds used so far by this process and its descendants (the plugin processes
 * and the store's worker thread included), from /proc; null where there is no /proc.
 * Under a busy machine, CPU per message says what a message costs better than wall time.
 */
function cpuMs(): number | null {
  try {
    const tick = 100; // USER_HZ on Linux
    const ofPid = (pid: string): number => {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      let ms = (Number(f[11]) + Number(f[12])) * 1000 / tick; // utime + stime
      for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
        const kids = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/children`).trim();
        for (const k of kids ? kids.split(" ") : []) ms += ofPid(k);
      }
      return ms;
    };
    return ofPid(String(Deno.pid));
  } catch {
    return null;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * The spam chain through the plugin host: auth (SPF, DMARC; DKIM and ARC when signed) then
 * spam (rules, DNS lists, Bayes on the trained model), for 10 KB messages. DNS is
 * answered from memory at once, so DNS waits are excluded, DNS work is not. The caches are
 * first warmed with training messages (a server that has been running), then each
 * measured message is new to them. `extra`: more spam plugin options (autolearn off).
 */
export async function chainCost(
  dir: string,
  warm: Sample[],
  samples: Sample[],
  group?: string,
  extra: Record<string, unknown> = {},
) {
  const options = {
    dnsbl: ["bl.bench.invalid"],
    uribl: ["uri.bench.invalid"],
    check_private_ips: true,
    ...extra,
  };
  const key = testDkimKey("sender.example", "bench");
  const dns: DnsLookup = (name, type) =>
    Promise.resolve(name === key.name && type === "TXT" ? [key.txt] : []);
  const config = configFromObject({
    data_dir: join(dir, "data"),
    plugins: [
      { name: "auth", module: "builtin:auth", options: { authserv_id: "mx.bench.test" }, group },
      { name: "spam", module: "builtin:spam", options, group },
    ],
  }, dir);
  const store = await openConfiguredStore(config);
  const host = await PluginHost.start(config, { store, dns, strict: true });
  const messages = samples.map((s) => tenKb(Deno.readFileSync(s.path)));
  const signed: Uint8Array[] = [];
  for (const m of messages.slice(0, 200)) signed.push(await dkimSigned(m, key));
  const run = (raw: Uint8Array) =>
    host.run("data", {
      session: { id: "bench", remoteIp: "192.0.2.1", tls: false, helo: "mail.sender.example" },
      sender: { address: "someone@sender.example", local: "someone", domain: "sender.example" },
      recipients: [{ address: "u@example.test", local: "u", domain: "example.test" }],
      message: raw,
    });
  const time = async (raw: Uint8Array) => {
    const t0 = performance.now();
    await run(raw);
    return performance.now() - t0;
  };
  const hosted: number[] = [];
  const hostedSigned: number[] = [];
  const inProcess: number[] = [];
  let cpuPerMsg: number | null = null;
  try {
    const model = new BayesModel(storeKv(store, "spam"));
    const spamOptions = readSpamOptions(options);
    for (const s of warm) {
      const raw = tenKb(Deno.readFileSync(s.path));
      await run(raw);
      await scanMessage({ raw, env: { recipients: ["u@example.test"] } }, {
        options: spamOptions,
        model,
      });
    }
    const cpu0 = cpuMs();
    for (const m of messages) hosted.push(await time(m));
    const cpu1 = cpuMs();
    if (cpu0 !== null && cpu1 !== null) cpuPerMsg = (cpu1 - cpu0) / messages.length;
    for (const m of signed) hostedSigned.push(await time(m));
    for (const m of messages) {
      const t1 = performance.now();
      await scanMessage({ raw: m, env: { recipients: ["u@example.test"] } }, {
        options: spamOptions,
        model,
      });
      inProcess.push(performance.now() - t1);
    }
  } finally {
    await host.stop();
    await store.close();
  }
  for (const a of [hosted, hostedSigned, inProcess]) a.sort((x, y) => x - y);
  return {
    n: messages.length,
    p50: percentile(hosted, 0.5),
    p99: percentile(hosted, 0.99),
    signedP50: percentile(hostedSigned, 0.5),
    scanP50: percentile(inProcess, 0.5),
    cpuPerMsg,
  };
}
