import assert from "node:assert/strict";
import { planDelivery } from "./deliver_hook.ts";
import type { HookOutcome, PluginHost } from "../plugins/engine/host.ts";

const enc = new TextEncoder();

/** A host whose deliver hook answers `outcome(account)`. */
function fakeHost(outcome: (account: string) => Partial<HookOutcome>): PluginHost {
  return {
    wants: () => true,
    run: (_hook: string, input: { account: string }) =>
      Promise.resolve({
        action: "continue",
        addHeaders: [],
        score: 0,
        results: [],
        ...outcome(input.account),
      }),
  } as unknown as PluginHost;
}

const input = (sender = "alice@example.org") => ({
  session: { id: "s", remoteIp: "127.0.0.1", tls: false },
  sender,
  message: enc.encode("Subject: x\r\n\r\nhi\r\n"),
  copies: [
    { accountId: 1, account: "bob@example.test", recipient: "bob@example.test", mailbox: "INBOX" },
    { accountId: 2, account: "eve@example.test", recipient: "eve@example.test", mailbox: "INBOX" },
  ],
});

Deno.test("deliver plan: copies with flags and create, redirect forwards, replies only to the sender", async () => {
  const plan = await planDelivery(
    fakeHost((a) =>
      a === "bob@example.test"
        ? {
          copies: [{ mailbox: "Lists", flags: ["$Lists"], create: true }, { mailbox: "INBOX" }],
          redirect: ["carol@remote.example"],
          reply: { to: "ALICE@example.org", message: "Subject: Auto\r\n\r\naway\r\n" },
        }
        : {
          action: "discard",
          redirect: ["dave@remote.example"],
          reply: { to: "x@evil.example", message: "spam" },
        }
    ),
    input(),
  );
  assert.equal(plan.refused, null);
  assert.deepEqual(plan.writes.map((w) => w.targets), [[
    { accountId: 1, mailbox: "Lists", flags: ["$Lists"], create: true },
    { accountId: 1, mailbox: "INBOX", flags: undefined, create: undefined },
  ]]);
  assert.deepEqual(plan.forwards, [
    { sender: "bob@example.test", recipients: ["carol@remote.example"] },
    { sender: "eve@example.test", recipients: ["dave@remote.example"] },
  ]);
  assert.deepEqual(
    plan.replies.map((r) => r.to),
    ["alice@example.org"],
    "eve's reply to a stranger is dropped",
  );
  const nullSender = await planDelivery(
    fakeHost(() => ({ reply: { to: "a@b.c", message: "x" } })),
    input(""),
  );
  assert.deepEqual(nullSender.replies, [], "never a reply to the null sender");
});
