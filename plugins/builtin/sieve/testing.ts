/**
 * Helpers for the sieve unit tests: run a script on a small message and get its actions
 * as short strings ("fileinto Lists [\\Seen]", "redirect a@b", "keep", ...).
 *
 * @module
 */
import { compile } from "./compile.ts";
import { describeAction as show, evaluate, type Limits, type Outcome } from "./eval.ts";
import { inputFromBytes } from "./message.ts";

export const SAMPLE = [
  "Return-Path: <alice@example.org>",
  "From: Alice <alice+lists@Example.org>",
  'To: bob@example.com, "Carol" <carol@example.net>',
  "Cc: dave@example.com",
  "Subject: =?UTF-8?Q?Caf=C3=A9?= [acme-users] [fwd] version 1.0 is out",
  "List-Id: Acme users <acme-users.lists.example.org>",
  "X-Spam: yes",
  "Received: from a",
  "Received: from b",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "Hello Bob, the *new* release is here.",
  "",
].join("\r\n");

export function runScript(
  src: string,
  opts: {
    message?: string;
    from?: string;
    to?: string;
    spam?: { score: number; max: number };
    limits?: Limits;
  } = {},
): Outcome {
  const input = inputFromBytes(
    new TextEncoder().encode(opts.message ?? SAMPLE),
    { from: opts.from ?? "alice+lists@example.org", to: opts.to ?? "bob+sieve@example.com" },
    opts.spam,
  );
  return evaluate(compile(src), input, opts.limits);
}

/** The actions a script takes, as strings. */
export function actions(src: string, opts: Parameters<typeof runScript>[1] = {}): string[] {
  return runScript(src, opts).actions.map(show);
}
