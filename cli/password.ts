/**
 * Reading a password: one line from stdin with --password-stdin, else a prompt without echo.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import { concatBytes } from "../lib/bytes.ts";

const enc = new TextEncoder();

/** Reads the first line of stdin (without its line ending). */
export async function readPasswordLine(): Promise<string> {
  const reader = Deno.stdin.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !value) break;
      chunks.push(value);
      total += value.length;
      if (value.includes(0x0a) || total > 4096) break;
    }
  } finally {
    reader.releaseLock();
  }
  const text = new TextDecoder().decode(concatBytes(chunks, total));
  return text.split(/\r?\n/)[0];
}

/** Prompts twice on a TTY without echo. */
export async function promptPassword(): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError("no password: use --password-stdin or run in a terminal");
  }
  const first = await promptHidden("Password: ");
  const second = await promptHidden("Repeat password: ");
  if (first !== second) throw new UsageError("passwords do not match");
  return first;
}

async function promptHidden(label: string): Promise<string> {
  await Deno.stdout.write(enc.encode(label));
  Deno.stdin.setRaw(true);
  const buf = new Uint8Array(1);
  let out = "";
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const c = buf[0];
      if (c === 0x0d || c === 0x0a) break;
      if (c === 0x03) throw new UsageError("cancelled");
      if (c === 0x7f || c === 0x08) out = out.slice(0, -1);
      else out += String.fromCharCode(c);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stdout.write(enc.encode("\n"));
  }
  return new TextDecoder().decode(Uint8Array.from(out, (ch) => ch.charCodeAt(0)));
}
