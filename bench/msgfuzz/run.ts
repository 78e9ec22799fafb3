/**
 * `deno task bench msgfuzz <seed-dir> [--n 20] [--seed 1] [--only file:index] [--out dir]`:
 * mutational fuzzing of the message paths in-process. Each seed message (a file in
 * <seed-dir>, e.g. real mail) gives `n` mutants; every mutant runs through every path of
 * tests/lib/msg_paths.ts. Reported: exceptions, and any call slower than 20 ms + 100 ms per MB. Mutants
 * that trip either are written to --out (default /tmp/msgfuzz-findings) with the PRNG seed
 * and mutations in the file name, so `--only` replays one.
 *
 * No corpus is committed: point it at any directory of messages.
 *
 * @module
 */
import { mutate, prng } from "../../tests/lib/msg_mutate.ts";
import { PATHS } from "../../tests/lib/msg_paths.ts";
import { flag } from "../smtp.ts";

/** A flag's value (bench/smtp.ts `flag`), or `dflt`. */
const arg = (args: string[], name: string, dflt: string) => flag(args, name) ?? dflt;

interface Stat {
  runs: number;
  maxMs: number;
  maxMsPerMb: number;
  errors: number;
  slow: number;
}

export async function benchMsgFuzz(args: string[]): Promise<void> {
  const dir = args.find((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
  if (!dir) {
    console.error("msgfuzz: usage: msgfuzz <seed-dir> [--n N] [--seed S] [--only file:i]");
    Deno.exit(2);
  }
  const n = Number(arg(args, "--n", "20"));
  const base = Number(arg(args, "--seed", "1"));
  const only = arg(args, "--only", "");
  const out = arg(args, "--out", "/tmp/msgfuzz-findings");
  const filter = arg(args, "--paths", "");
  const trace = args.includes("--trace");
  await Deno.mkdir(out, { recursive: true });
  const files = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  const paths = Object.entries(PATHS).filter(([k]) => !filter || k.includes(filter));
  const stats = new Map<string, Stat>(
    paths.map(([k]) => [k, { runs: 0, maxMs: 0, maxMsPerMb: 0, errors: 0, slow: 0 }]),
  );
  console.log(`msgfuzz: ${files.length} seeds x ${n} mutants, PRNG seed ${base}`);
  let mutants = 0, totalBytes = 0;
  for (const [fi, file] of files.entries()) {
    const raw = Deno.readFileSync(`${dir}/${file}`);
    // As SMTP stores it: CRLF line ends.
    const seed = crlf(raw);
    for (let i = 0; i < n; i++) {
      if (only && only !== `${file}:${i}`) continue;
      const r = prng(base * 1_000_003 + fi * 10_007 + i);
      const { names, bytes } = mutate(seed, r);
      mutants++;
      totalBytes += bytes.length;
      const mb = bytes.length / 1e6;
      for (const [name, fn] of paths) {
        const st = stats.get(name)!;
        st.runs++;
        // The last line on stderr names the call that hangs, if one does.
        if (trace) console.error(`${name} ${file}:${i} [${names.join("+")}] ${bytes.length}`);
        const t0 = performance.now();
        let error: unknown = null;
        try {
          await fn(bytes);
        } catch (e) {
          error = e;
        }
        let ms = performance.now() - t0;
        // A slow first call may be JIT warm-up or the other engineer's load: the best of
        // three decides.
        for (let k = 0; k < 2 && !error && ms > 20 + 100 * mb; k++) {
          const t1 = performance.now();
          await fn(bytes);
          ms = Math.min(ms, performance.now() - t1);
        }
        st.maxMs = Math.max(st.maxMs, ms);
        st.maxMsPerMb = Math.max(st.maxMsPerMb, ms / Math.max(mb, 0.01));
        const slow = ms > 20 + 100 * mb;
        if (error) st.errors++;
        if (slow) st.slow++;
        if (error || slow) {
          const tag = `${file}:${i}`;
          const what = error
            ? `THROWS ${String((error as Error)?.stack ?? error).slice(0, 300)}`
            : `SLOW ${ms.toFixed(0)} ms`;
          console.log(`  ${name} on ${tag} [${names.join("+")}] ${mb.toFixed(2)} MB: ${what}`);
          await Deno.writeFile(`${out}/${file}.${i}.${names.join("+")}.eml`, bytes);
        }
      }
    }
  }
  console.log(`${mutants} mutants, ${(totalBytes / 1e6).toFixed(1)} MB in all`);
  console.log("path                          runs  errors  slow  max ms  max ms/MB");
  for (const [name, s] of stats) {
    console.log(
      `${name.padEnd(28)} ${String(s.runs).padStart(6)} ${String(s.errors).padStart(7)} ${
        String(s.slow).padStart(5)
      } ${s.maxMs.toFixed(0).padStart(7)} ${s.maxMsPerMb.toFixed(0).padStart(10)}`,
    );
  }
}

function crlf(raw: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 10 && raw[i - 1] !== 13) out.push(13);
    out.push(raw[i]);
  }
  return new Uint8Array(out);
}

if (import.meta.main) await benchMsgFuzz(Deno.args);
