/** `import maildir|mbox` and `export mbox`, run as the CLI; the export is read by python. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { addUserCli, cli, configToml, startServerProcess } from "./lib/server_process.ts";
import { imaplib } from "./imap_helpers.ts";
import { writeCorpusMbox } from "../bench/corpus.ts";
import { python } from "./harness.ts";
import { configFromObject } from "../core/config.ts";
import { openConfiguredStore } from "../app/store.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("cli: import a Maildir and an mbox, export mbox, and round-trip it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-import-" });
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(config, `data_dir = "${dir}/data"\n`);
  const ok = async (args: string[], stdin?: string) => {
    const r = await cli([...args, "--config", config], { stdin });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    await ok(["user", "add", "erin@example.test", "--password-stdin"], "erin-password\n");

    // A Maildir: LF line endings, flags in the names, one 8-bit body.
    const md = join(dir, "Maildir");
    for (const sub of ["new", "cur", "tmp"]) await Deno.mkdir(join(md, sub), { recursive: true });
    await Deno.writeTextFile(join(md, "new", "1700000001.a.host"), "Subject: one\n\nfirst\n");
    await Deno.writeFile(
      join(md, "cur", "1700000002.b.host:2,FS"),
      enc.encode("Subject: two\n\nna\u00efve body\n"),
    );
    await Deno.writeTextFile(join(md, "cur", "1700000003.c.host:2,RT"), "Subject: three\n\nx\n");
    assert.match(
      await ok(["import", "maildir", md, "--user", "erin@example.test", "--mailbox", "Archive"]),
      /imported 3 messages/,
    );

    // An mbox with a body line that needs mboxrd quoting.
    const mbox = join(dir, "in.mbox");
    await Deno.writeTextFile(
      mbox,
      "From a@example.org Mon Jan  1 00:00:00 2024\nSubject: m1\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n" +
        ">From quoted\nline\n\nFrom b@example.org Tue Jan  2 00:00:00 2024\nSubject: m2\n\nbody2\n",
    );
    assert.match(await ok(["import", "mbox", mbox, "--user", "erin@example.test"]), /imported 2/);

    const out = join(dir, "out.mbox");
    assert.match(
      await ok([
        "export",
        "mbox",
        "--user",
        "erin@example.test",
        "--mailbox",
        "INBOX",
        "--out",
        out,
      ]),
      /exported 2 messages/,
    );
    // A real mbox reader sees both messages with their subjects.
    const py = await python(
      `import mailbox,sys\nfor m in mailbox.mbox(sys.argv[1]): print(m["Subject"])`,
      [out],
    );
    assert.equal(py.stdout, "m1\nm2\n");
    // Round trip: the export imports back to the very same bytes.
    await ok(["import", "mbox", out, "--user", "erin@example.test", "--mailbox", "Again"]);

    const exists = await cli([
      "export",
      "mbox",
      "--user",
      "erin@example.test",
      "--mailbox",
      "INBOX",
      "--out",
      out,
      "--config",
      config,
    ]);
    assert.equal(exists.code, 2);
    const wrongKind = await cli([
      "import",
      "mbox",
      md,
      "--user",
      "erin@example.test",
      "--config",
      config,
    ]);
    assert.equal(wrongKind.code, 2);
    assert.match(wrongKind.stderr, /not an mbox/);

    const store = await openConfiguredStore(configFromObject({ data_dir: `${dir}/data` }, dir), {
      inlineWrites: true,
    });
    try {
      const acc = (await store.getAccount("erin@example.test"))!;
      const read = async (name: string) => {
        const mb = (await store.getMailbox(acc.id, name))!;
        const msgs = await store.listMessages(mb.id);
        return await Promise.all(
          msgs.map(async (m) => ({ ...m, text: dec.decode(await store.readBlob(m.blobId)) })),
        );
      };
      const archive = await read("Archive");
      assert.deepEqual(archive.map((m) => /Subject: (\w+)/.exec(m.text)?.[1]).sort(), [
        "one",
        "three",
        "two",
      ]);
      const two = archive.find((m) => m.text.includes("Subject: two"))!;
      assert.deepEqual([...two.flags].sort(), ["\\Flagged", "\\Seen"]);
      assert.equal(two.text, "Subject: two\r\n\r\nna\u00efve body\r\n");
      const three = archive.find((m) => m.text.includes("Subject: three"))!;
      assert.deepEqual([...three.flags].sort(), ["\\Answered", "\\Deleted"]);
      assert.equal(
        two.internalDate,
        (await Deno.stat(join(md, "cur", "1700000002.b.host:2,FS"))).mtime!.getTime(),
      );

      const inbox = await read("INBOX");
      assert.equal(
        inbox[0].text,
        "Subject: m1\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nFrom quoted\r\nline\r\n",
      );
      assert.equal(inbox[0].internalDate, Date.UTC(2024, 0, 1));
      const again = await read("Again");
      assert.deepEqual(again.map((m) => m.text), inbox.map((m) => m.text));
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: after import mbox of 2,000 messages the full-text index is complete (SEARCH TEXT over TCP)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-import-fts-" });
  const configPath = join(dir, "denomail.toml");
  await Deno.writeTextFile(configPath, configToml(`${dir}/data`, ["imap"]));
  const mbox = join(dir, "big.mbox");
  const COUNT = 2000;
  try {
    await addUserCli(configPath, "ivan@example.test", "ivan-password");
    await writeCorpusMbox(mbox, COUNT);
    const r = await cli([
      "import",
      "mbox",
      mbox,
      "--user",
      "ivan@example.test",
      "--config",
      configPath,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 2000 messages/);

    // Nothing is left for a server's background indexer (issue 13, item 19).
    const config = configFromObject({ data_dir: `${dir}/data` }, dir);
    const store = await openConfiguredStore(config, { inlineWrites: true });
    try {
      assert.equal(await store.textIndexBacklog!(), 0);
    } finally {
      await store.close();
    }

    const server = await startServerProcess(configPath, ["imap"]);
    try {
      // Message i holds the word uniq<i>x (UID i + 1); "corpus message 1999" is one subject.
      const lines = await imaplib(
        server.ports.imap,
        "ivan@example.test",
        "ivan-password",
        `m.select("INBOX")
for q in sys.argv[4:]:
    print(q + "=" + m.uid("SEARCH", "TEXT", '"%s"' % q)[1][0].decode())`,
        ["uniq1234x", "uniq0x", "corpus message 1999", "nothing-like-this"],
      );
      assert.deepEqual(lines, [
        "uniq1234x=1235",
        "uniq0x=1",
        "corpus message 1999=2000",
        "nothing-like-this=",
      ]);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
