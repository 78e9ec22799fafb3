/**
 * QUOTA (RFC 9208) end to end: the admin sets a quota with `denomail user quota`, then
 * imapflow's getQuota(), python imaplib's getquotaroot()/getquota()/setquota(), APPEND and
 * COPY over the limit (NO [OVERQUOTA]) and STATUS DELETED-STORAGE over raw IMAP.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer } from "./harness.ts";
import { flowClient, imaplib, RawImap, sampleMessage } from "./imap_helpers.ts";
import { cli } from "./lib/server_process.ts";

const USER = "quota@example.test";
const PASS = "quota-pw-123";

Deno.test("imap: QUOTA (RFC 9208) with the admin CLI", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-quota-" });
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(config, `data_dir = "${dir}/data"\n`);
  let ts: Awaited<ReturnType<typeof startTestServer>> | null = null;
  try {
    await t.step("cli: user quota EMAIL SIZE|none", async () => {
      const add = await cli(["user", "add", USER, "--password-stdin", "--config", config], {
        stdin: `${PASS}\n`,
      });
      assert.equal(add.code, 0, add.stderr);
      const q = await cli(["user", "quota", USER, "4K", "--config", config]);
      assert.equal(q.code, 0, q.stderr);
      assert.match(q.stdout, /quota for quota@example\.test: 4096 bytes/);
      const bad = await cli(["user", "quota", USER, "lots", "--config", config]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /SIZE must be/);
      const nobody = await cli(["user", "quota", "nobody@example.test", "1M", "--config", config]);
      assert.equal(nobody.code, 2);
      assert.match(nobody.stderr, /no such user/);
    });

    ts = await startTestServer({ data_dir: join(dir, "data") });
    const port = ts.port("imap");

    await t.step("imapflow: getQuota; APPEND over quota is NO [OVERQUOTA]", async () => {
      const flow = flowClient(port, ts!.certPem, USER, PASS);
      await flow.connect();
      try {
        assert.ok(flow.capabilities.has("QUOTA") && flow.capabilities.has("QUOTA=RES-STORAGE"));
        const small = sampleMessage("fits", "x".repeat(700) + "\r\n");
        assert.ok(await flow.append("INBOX", small));
        const q = await flow.getQuota("INBOX");
        assert.ok(q);
        assert.equal(q.quotaRoot, "User quota");
        assert.deepEqual(q.storage, { usage: 1024, limit: 4096, status: "25%" });
        const big = sampleMessage("too big", "y".repeat(5000) + "\r\n");
        await assert.rejects(
          flow.append("INBOX", big),
          (e: Error & { serverResponseCode?: string }) => {
            assert.equal(e.serverResponseCode, "OVERQUOTA");
            return true;
          },
        );
      } finally {
        await flow.logout();
      }
    });

    await t.step("python imaplib: getquotaroot, getquota, setquota refused", async () => {
      const lines = await imaplib(
        port,
        USER,
        PASS,
        `
typ, data = m.getquotaroot("INBOX")
print(typ, [d.decode() for group in data for d in group])
typ, data = m.getquota('"User quota"')
print(typ, data[0].decode())
typ, data = m.setquota('"User quota"', "(STORAGE 100000)")
print(typ, data[0].decode())
typ, data = m.getquota('"Other"')
print(typ, data[0].decode())
`,
      );
      assert.deepEqual(lines, [
        `OK ['INBOX "User quota"', '"User quota" (STORAGE 1 4)']`,
        `OK "User quota" (STORAGE 1 4)`,
        "NO [NOPERM] Quotas are set by the administrator",
        "NO [NONEXISTENT] No such quota root",
      ]);
    });

    await t.step(
      "raw: COPY over quota, DELETED-STORAGE, no quota root without a limit",
      async () => {
        const c = await RawImap.login(port, USER, PASS);
        try {
          await c.command("SELECT INBOX");
          // 1 -> 2 -> 4 messages of under 1 KiB fit in 4 KiB; 8 do not.
          assert.match((await c.command("COPY 1:* INBOX")).tagged, /OK \[COPYUID/);
          assert.match((await c.command("COPY 1:* INBOX")).tagged, /OK \[COPYUID/);
          assert.match((await c.command("COPY 1:* INBOX")).tagged, /NO \[OVERQUOTA\]/);
          await c.command("STORE 1 +FLAGS.SILENT (\\Deleted)");
          const st = await c.command("STATUS INBOX (DELETED DELETED-STORAGE MESSAGES)");
          assert.deepEqual(st.lines, ['* STATUS "INBOX" (DELETED 1 DELETED-STORAGE 1 MESSAGES 4)']);
          await ts!.store.setQuota(USER, null);
          const root = await c.command("GETQUOTAROOT inbox");
          assert.deepEqual(root.lines, ["* QUOTAROOT INBOX"]);
          assert.match((await c.command('GETQUOTA "User quota"')).tagged, /NO \[NONEXISTENT\]/);
          assert.match((await c.command("GETQUOTAROOT Nope")).tagged, /NO \[NONEXISTENT\]/);
          assert.match((await c.command("SETQUOTA x (STORAGE)")).tagged, /BAD/);
        } finally {
          c.close();
        }
      },
    );
  } finally {
    await ts?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
