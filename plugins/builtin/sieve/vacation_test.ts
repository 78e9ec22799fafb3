import assert from "node:assert/strict";
import type { PluginKv } from "../../sdk.ts";
import { runScript } from "./testing.ts";
import { firstInPeriod, vacationMessage } from "./vacation.ts";
import type { Action } from "./eval.ts";

const R = 'require ["vacation", "vacation-seconds"]; ';
const MSG = (extra = "", to = "bob@example.com") =>
  `From: alice@example.org\r\nTo: ${to}\r\nSubject: Lunch?\r\nMessage-ID: <m1@example.org>\r\n${extra}\r\nhi\r\n`;

function vacationOf(src: string, opts: Parameters<typeof runScript>[1] = {}) {
  const out = runScript(R + src, { from: "alice@example.org", to: "bob@example.com", ...opts });
  return { v: out.actions.find((a) => a.type === "vacation"), out };
}

Deno.test("vacation: the reply action, implicit keep stays, :days and :seconds", () => {
  const { v, out } = vacationOf('vacation :days 3 :subject "Away" "Back on Monday.";', {
    message: MSG(),
  });
  assert.deepEqual(out.actions.map((a) => a.type), ["vacation", "keep"]);
  assert.equal(v?.type, "vacation");
  if (v?.type !== "vacation") return;
  assert.deepEqual([v.to, v.subject, v.period, v.inReplyTo], [
    "alice@example.org",
    "Away",
    259_200,
    "<m1@example.org>",
  ]);
  const d = vacationOf('vacation "x";', { message: MSG() }).v as Extract<
    Action,
    { type: "vacation" }
  >;
  assert.deepEqual([d.period, d.subject], [7 * 86_400, "Auto: Lunch?"]);
  const s = vacationOf('vacation :seconds 0 "x";', { message: MSG() }).v as Extract<
    Action,
    { type: "vacation" }
  >;
  assert.equal(s.period, 0);
  assert.throws(
    () => runScript('require "vacation"; vacation :seconds 5 "x";'),
    /needs require "vacation-seconds"/,
  );
});

Deno.test("vacation: RFC 3834 and RFC 5230 §4.5 say when not to reply", () => {
  const skipped = (opts: Parameters<typeof runScript>[1]) => {
    const { v, out } = vacationOf('vacation "x";', opts);
    assert.equal(v, undefined);
    return out.vacationSkipped;
  };
  assert.match(skipped({ message: MSG(), from: "" })!, /null sender/);
  assert.match(skipped({ message: MSG(), from: "owner-list@example.org" })!, /list or system/);
  assert.match(skipped({ message: MSG(), from: "list-request@example.org" })!, /list or system/);
  assert.match(skipped({ message: MSG(), from: "MAILER-DAEMON@example.org" })!, /list or system/);
  assert.match(skipped({ message: MSG("Auto-Submitted: auto-replied\r\n") })!, /Auto-Submitted/);
  assert.match(skipped({ message: MSG("Precedence: bulk\r\n") })!, /Precedence/);
  assert.match(skipped({ message: MSG("List-Id: <x.example.org>\r\n") })!, /mailing list/);
  assert.match(skipped({ message: MSG("", "someone-else@example.com") })!, /not in To, Cc/);
  assert.match(skipped({ message: MSG(), from: "bob@example.com" })!, /sender is the user/);
  // Auto-Submitted: no is a human message; :addresses and a +detail recipient count as ours.
  assert.ok(vacationOf('vacation "x";', { message: MSG("Auto-Submitted: no\r\n") }).v);
  assert.ok(
    vacationOf('vacation :addresses "b@alias.example" "x";', {
      message: MSG("", "b@alias.example"),
    }).v,
  );
  assert.ok(vacationOf('vacation "x";', { message: MSG(), to: "bob+tag@example.com" }).v);
});

Deno.test("vacation: one per script, not with reject", () => {
  assert.match(
    runScript(R + 'vacation "a"; vacation "b";', { message: MSG() }).error ?? "",
    /more than one/,
  );
  assert.throws(
    () =>
      runScript('require ["vacation", "reject"];\nif true { vacation "a"; } else { reject "no"; }'),
    /line 1:1: vacation cannot be used with reject/,
  );
});

Deno.test("vacation: once per sender and handle per period (kv), the reply message", async () => {
  const m = new Map<string, number>();
  const kv = {
    incr: (k: string, by = 1) => Promise.resolve(m.set(k, (m.get(k) ?? 0) + by).get(k)!),
  } as unknown as PluginKv;
  const v = vacationOf('vacation :subject "Café" "Back\nMonday.";', { message: MSG() })
    .v as Extract<Action, { type: "vacation" }>;
  assert.equal(await firstInPeriod(kv, "bob@example.com", v), true);
  assert.equal(await firstInPeriod(kv, "bob@example.com", v), false);
  assert.equal(await firstInPeriod(kv, "bob@example.com", { ...v, to: "carol@example.org" }), true);
  assert.equal(await firstInPeriod(kv, "bob@example.com", { ...v, handle: "other" }), true);
  assert.equal(await firstInPeriod(kv, "bob@example.com", { ...v, period: 0 }), true);
  const text = vacationMessage(v, "bob@example.com", new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
  assert.match(text, /^From: bob@example\.com\r\nTo: <alice@example\.org>\r\n/);
  assert.match(text, /\r\nSubject: =\?UTF-8\?B\?Q2Fmw6k=\?=\r\n/);
  assert.match(text, /\r\nDate: Fri, 02 Jan 2026 03:04:05 \+0000\r\n/);
  assert.match(text, /\r\nIn-Reply-To: <m1@example\.org>\r\nReferences: <m1@example\.org>\r\n/);
  assert.match(text, /\r\nAuto-Submitted: auto-replied/);
  assert.ok(text.endsWith("\r\n\r\nBack\r\nMonday.\r\n"));
});
