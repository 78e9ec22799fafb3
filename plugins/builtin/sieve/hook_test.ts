/**
 * The deliver hook itself with a fake context: virustest fed by the antivirus plugin's data
 * verdict, the JMAP VacationResponse rule (alone, and taking over from the script's
 * vacation), and editheader's edited message as the `message` verdict.
 */
import assert from "node:assert/strict";
import type { DeliverContext, HookResult, PluginResultSummary } from "../../sdk.ts";
import { sievePlugin } from "./mod.ts";
import { activateScript, putScript } from "./scripts.ts";
import { saveJmapVacation } from "./jmap_vacation.ts";

function memoryKv() {
  const m = new Map<string, string>();
  const add = (k: string, by: number) => {
    const n = Number(m.get(k) ?? 0) + by;
    m.set(k, String(n));
    return n;
  };
  return {
    get: (k: string) => Promise.resolve(m.get(k) ?? null),
    getMany: (ks: string[]) => Promise.resolve(ks.map((k) => m.get(k) ?? null)),
    set: (k: string, v: string) => Promise.resolve(void m.set(k, v)),
    incr: (k: string, by = 1) => Promise.resolve(add(k, by)),
    incrMany: (entries: Array<[string, number]>) =>
      Promise.resolve(entries.map(([k, by]) => add(k, by))),
    delete: (k: string) => Promise.resolve(void m.delete(k)),
  };
}

const RAW = "From: carol@b.test\r\nTo: bob@a.test\r\nSubject: hello\r\nX-Secret: 1\r\n\r\nbody\r\n";

function ctx(kv: ReturnType<typeof memoryKv>, results: PluginResultSummary[] = []): DeliverContext {
  const raw = new TextEncoder().encode(RAW);
  return {
    hook: "deliver",
    session: { id: "t", remoteIp: "127.0.0.1", tls: false },
    options: { virus_plugin: "av" },
    results,
    plugin: "sieve",
    kv,
    dns: { resolve: () => Promise.resolve([]) },
    source: "smtp",
    sender: { address: "carol@b.test", local: "carol", domain: "b.test" },
    recipient: { address: "bob@a.test", local: "bob", domain: "a.test" },
    account: "bob@a.test",
    mailbox: "INBOX",
    message: { raw } as DeliverContext["message"],
  };
}

const deliver = (c: DeliverContext) =>
  sievePlugin().hooks.deliver!(c as never) as Promise<HookResult | undefined>;

Deno.test("hook: virustest from the antivirus plugin's verdict (0 untested, 1 clean, 5 infected)", async () => {
  const kv = memoryKv();
  const src = 'require ["virustest", "fileinto", "relational", "variables"];\n' +
    'if virustest :comparator "i;ascii-casemap" :matches "*" { fileinto "v${1}"; }';
  await putScript(kv, "bob@a.test", "v", src);
  await activateScript(kv, "bob@a.test", "v");
  const av = (action: PluginResultSummary["action"]): PluginResultSummary[] => [
    { plugin: "av", hook: "data", action, ms: 1 },
  ];
  const box = async (r: PluginResultSummary[]) => (await deliver(ctx(kv, r)))?.copies?.[0].mailbox;
  assert.equal(await box([]), "v0");
  assert.equal(await box(av("continue")), "v1");
  assert.equal(await box(av("quarantine")), "v5");
});

Deno.test("hook: JMAP vacation replies without a script, and instead of the script's", async () => {
  const kv = memoryKv();
  assert.equal(await deliver(ctx(kv)), undefined, "nothing to do");
  const on = {
    isEnabled: true,
    fromDate: null,
    toDate: new Date(Date.now() + 3_600_000).toISOString(),
    subject: "Away",
    textBody: "Back soon.",
    htmlBody: null,
  };
  await saveJmapVacation(kv, "bob@a.test", on);
  const r = await deliver(ctx(kv));
  assert.equal(r?.reply?.to, "carol@b.test");
  assert.match(r!.reply!.message, /^Subject: Away\r\n/m);
  assert.deepEqual(r?.copies, [{ mailbox: "INBOX" }]);
  assert.equal((await deliver(ctx(kv)))?.reply, undefined, "once per period");
  await saveJmapVacation(kv, "bob@a.test", {
    ...on,
    toDate: new Date(Date.now() - 1000).toISOString(),
  });
  assert.equal(await deliver(ctx(kv)), undefined, "after toDate: off");
  await saveJmapVacation(kv, "bob@a.test", { ...on, subject: "Away again" });
  await putScript(kv, "bob@a.test", "s", 'require "vacation";\nvacation :subject "Script" "x";');
  await activateScript(kv, "bob@a.test", "s");
  const both = await deliver(ctx(kv));
  assert.match(both!.reply!.message, /^Subject: Away again\r\n/m);
  assert.match(both!.note ?? "", /script vacation off/);
});

Deno.test("hook: editheader makes the stored copy the edited message", async () => {
  const kv = memoryKv();
  await putScript(
    kv,
    "bob@a.test",
    "e",
    'require "editheader";\naddheader "X-Seen" "yes";\ndeleteheader "x-secret";',
  );
  await activateScript(kv, "bob@a.test", "e");
  const r = await deliver(ctx(kv));
  assert.equal(
    new TextDecoder().decode(r!.message as Uint8Array),
    "X-Seen: yes\r\nFrom: carol@b.test\r\nTo: bob@a.test\r\nSubject: hello\r\n\r\nbody\r\n",
  );
});
