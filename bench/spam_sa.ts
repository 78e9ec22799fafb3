/**
 * SpamAssassin run the same way as denomail on a split: a private site config (Debian's
 * *.pre files plus Bayes settings), a private Bayes database trained by `sa-learn` on exactly
 * the split's training part, and `spamd -L` (no network tests) classifying the rest.
 * Needs Debian's `spamassassin` (sa-learn, spamd) and `spamc`.
 *
 * @module
 */
import { join } from "node:path";
import { freePort } from "./peers.ts";
import { confusion, type Outcome } from "./spam_eval.ts";
import { byDate, type Sample } from "./spam_splits.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function onPath(cmd: string): Promise<boolean> {
  for (const d of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/usr/bin"])) {
    if (await exists(join(d, cmd))) return true;
  }
  return false;
}

/** True when sa-learn, spamd and spamc are installed (else says what to install). */
export async function haveSpamAssassin(): Promise<boolean> {
  for (const c of ["sa-learn", "spamd", "spamc"]) {
    if (!await onPath(c)) {
      console.error(`SpamAssassin: ${c} not installed (apt-get install -y spamassassin spamc)`);
      return false;
    }
  }
  return true;
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

/** Symlinks samples into dir/spam and dir/ham (what sa-learn reads). */
async function linkTraining(dir: string, samples: Sample[]): Promise<void> {
  for (const kind of ["spam", "ham"]) await Deno.mkdir(join(dir, kind), { recursive: true });
  for (const s of samples) {
    const base = s.path.slice(s.path.lastIndexOf("/") + 1);
    await Deno.symlink(s.path, join(dir, s.spam ? "spam" : "ham", `${s.source}-${base}`));
  }
}

/**
 * Trains a fresh SpamAssassin on `train` and classifies `test` (score >= 5 is spam). With
 * `autolearn`, SpamAssassin's own `bayes_auto_learn` (its default; thresholds 0.1 and 12)
 * is on and `test` is classified oldest first, one at a time, as denomail's autolearn is
 * run (spam_eval.ts): each message may teach the next.
 */
export async function evaluateSpamAssassin(
  train: Sample[],
  test: Sample[],
  autolearn = false,
): Promise<Outcome> {
  const dir = await Deno.makeTempDir({ prefix: "bench-sa-" });
  await Deno.chmod(dir, 0o755);
  try {
    return await run(dir, train, autolearn ? byDate(test) : test, autolearn);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function run(
  dir: string,
  train: Sample[],
  test: Sample[],
  autolearn: boolean,
): Promise<Outcome> {
  const site = join(dir, "sa-site");
  const bayes = join(dir, "sa-bayes");
  await linkTraining(join(dir, "train"), train);
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
    `use_bayes 1\nbayes_auto_learn ${
      autolearn ? 1 : 0
    }\nbayes_path ${bayes}/bayes\nbayes_file_mode 0777\n` +
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
    const verdicts = new Array<boolean>(test.length).fill(false);
    const t1 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: autolearn ? 1 : 4 }, async () => {
      while (next < test.length) {
        const i = next++;
        const r = await exec(
          "spamc",
          ["-p", String(port), "-c"],
          await Deno.readFile(test[i].path),
        );
        const score = Number(r.stdout.trim().split("/")[0]);
        verdicts[i] = Number.isFinite(score) && score >= 5;
      }
    }));
    const msPerMsg = (performance.now() - t1) / Math.max(1, test.length);
    return { ...confusion(test, verdicts), trainSecs, msPerMsg };
  } finally {
    spamd.kill("SIGTERM");
    await spamd.status;
  }
}
