/**
 * Upgrades that cannot strand data. Each fixture in tests/fixtures/upgrade/vN is a data dir
 * made by the code of the commit that merged schema version N to main (build.sh, make.ts):
 * two users, flags and keywords, 8-bit bytes, a message to both users, an expunge, a queued
 * message. Each is upgraded by starting today's server on it, and every message is read back
 * over IMAP (python imaplib) byte-exact with its flags. Also: `serve --dry-run-migrations`
 * writes nothing, the pre-migration copy is made and pruned at the next clean start, and a
 * database newer than the code is refused without a byte written.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { gunzipSync } from "node:zlib";
import { cli, configToml, startServerProcess } from "./lib/server_process.ts";
import { dumpMail, type MailDump } from "./lib/mail_dump.ts";
import { SCHEMA_VERSION } from "../storage/sqlite/schema.ts";

const FIXTURES = new URL("./fixtures/upgrade/", import.meta.url).pathname;
const VERSIONS = [...Deno.readDirSync(FIXTURES)].filter((e) => /^v\d+$/.test(e.name))
  .map((e) => Number(e.name.slice(1))).sort((a, b) => a - b);
const PASSWORD = "fixture-password";

/** A temp data dir holding fixture vN's database, and a config for it. */
async function unpack(v: number, listen: string[] = ["imap"]) {
  const dir = await Deno.makeTempDir({ prefix: `denomail-upgrade-v${v}-` });
  const data = join(dir, "data");
  await Deno.mkdir(data);
  const gz = await Deno.readFile(join(FIXTURES, `v${v}`, "denomail.db.gz"));
  await Deno.writeFile(join(data, "denomail.db"), gunzipSync(gz));
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(config, configToml(data, listen));
  return { dir, data, config, db: join(data, "denomail.db") };
}

const digest = async (path: string) =>
  createHash("sha256").update(await Deno.readFile(path)).digest("hex");

Deno.test("upgrade: the fixtures cover the release points since the first schema", () => {
  assert.deepEqual(VERSIONS, [1, 2, 3, 5, 7, 8, 9, 10]);
  assert.ok(VERSIONS.at(-1)! < SCHEMA_VERSION);
});

for (const v of VERSIONS) {
  Deno.test({
    name: `upgrade: schema ${v} -> current, every message byte-exact with its flags over IMAP`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const f = await unpack(v);
      try {
        const before = await digest(f.db);
        const dry = await cli(["serve", "--dry-run-migrations", "--config", f.config]);
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(dry.stdout, new RegExp(`schema version ${v} -> ${SCHEMA_VERSION}`));
        assert.equal(dry.stdout.match(/^ {2}\d+: /gm)?.length, SCHEMA_VERSION - v);
        assert.equal(await digest(f.db), before, "a dry run writes nothing");
        assert.ok(!existsSync(join(f.data, "backups")));

        const server = await startServerProcess(f.config, ["imap"]);
        try {
          const expected = JSON.parse(
            await Deno.readTextFile(join(FIXTURES, `v${v}`, "expected.json")),
          ) as Record<string, MailDump>;
          for (const [user, boxes] of Object.entries(expected)) {
            assert.deepEqual(await dumpMail(server.ports.imap, user, PASSWORD), boxes, user);
          }
        } finally {
          await server.stop();
        }
        const copies = [...Deno.readDirSync(join(f.data, "backups"))].map((e) => e.name);
        assert.equal(copies.length, 1);
        assert.match(copies[0], new RegExp(`^pre-migration-${v}-${SCHEMA_VERSION}-.*\\.db$`));
        const copy = new DatabaseSync(join(f.data, "backups", copies[0]), { readOnly: true });
        assert.equal(
          (copy.prepare("PRAGMA user_version").get() as Record<string, number>)
            .user_version,
          v,
          "the copy is the database as it was",
        );
        copy.close();

        const check = await cli(["verify", "--config", f.config]);
        assert.equal(check.code, 0, check.stdout + check.stderr);
        assert.match(check.stdout, /ok: .* 6 messages, \d+ blobs, 1 queue entries/);

        if (v === VERSIONS[0]) {
          // The next start has nothing to migrate: the upgrade held, the copy goes.
          const again = await startServerProcess(f.config, ["imap"]);
          await again.stop();
          assert.deepEqual([...Deno.readDirSync(join(f.data, "backups"))], []);
        }
      } finally {
        await Deno.remove(f.dir, { recursive: true });
      }
    },
  });
}

Deno.test("upgrade: a database newer than the code is refused, and not a byte is written", async () => {
  const f = await unpack(VERSIONS.at(-1)!);
  try {
    const db = new DatabaseSync(f.db);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const before = await digest(f.db);
    for (const args of [["serve"], ["serve", "--dry-run-migrations"], ["user", "list"]]) {
      const r = await cli([...args, "--config", f.config]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`schema version ${SCHEMA_VERSION + 5} is newer than this denomail knows`),
      );
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.equal(await digest(f.db), before);
    assert.ok(!existsSync(join(f.data, "backups")));
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("upgrade: a database over pre_migration_backup_max_bytes is not migrated without a copy", async () => {
  const f = await unpack(VERSIONS[0]);
  try {
    await Deno.writeTextFile(
      f.config,
      configToml(f.data, ["imap"], {
        tables: "[storage]\npre_migration_backup_max_bytes = 1024\n",
      }),
    );
    const before = await digest(f.db);
    const r = await cli(["serve", "--config", f.config]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /storage\.pre_migration_backup_max_bytes: .*--skip-migration-backup/);
    assert.equal(await digest(f.db), before);
    const skip = await startServerProcess(f.config, ["imap"], 30_000, ["--skip-migration-backup"]);
    await skip.stop();
    assert.ok(!existsSync(join(f.data, "backups")), "skipped on request");
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});
