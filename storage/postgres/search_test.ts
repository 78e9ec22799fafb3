/**
 * SEARCH's pre-filter on PostgreSQL: LIKE patterns with the client's `%`, `_` and `\` escaped
 * (a needle is a substring, never a pattern), and the pg_trgm indexes in place on a private
 * cluster (Debian's postgresql package ships the extension).
 */
import assert from "node:assert/strict";
import { skipPostgres, startPostgres } from "../../tests/lib/postgres.ts";
import { openPostgresStore } from "./store.ts";
import { connect } from "./rows.ts";

Deno.test({
  name: "postgres SEARCH pre-filter: escaped LIKE needles, trigram indexes",
  ignore: skipPostgres(),
  async fn() {
    const pg = await startPostgres();
    const store = await openPostgresStore(pg.url, { maxConnections: 2 });
    try {
      const acc = await store.createAccount("s@example.test", "h");
      const inbox = (await store.getMailbox(acc.id, "INBOX"))!;
      const bodies = ["50% off", "50x off", "a_b c", "axb c", "back\\slash", "backxslash"];
      for (const b of bodies) {
        await store.append(inbox.id, new TextEncoder().encode(`Subject: t\r\n\r\n${b}\r\n`));
      }
      const find = (value: string) => store.searchText!(inbox.id, { part: "body", value });
      assert.deepEqual(await find("50%"), [1]);
      assert.deepEqual(await find("A_B"), [3], "case folded, _ is no wildcard");
      assert.deepEqual(await find("k\\s"), [5]);
      assert.deepEqual(await find("OFF"), [1, 2]);
      assert.deepEqual(await find("nowhere"), []);
      const db = connect(pg.url, { max: 1 });
      try {
        const idx = await db`SELECT indexname FROM pg_indexes WHERE tablename = 'blob_text'
          AND indexname LIKE '%trgm' ORDER BY indexname`;
        assert.deepEqual(idx.map((r) => r.indexname), [
          "blob_text_body_trgm",
          "blob_text_header_trgm",
        ]);
      } finally {
        await db.end();
      }
    } finally {
      await store.close();
      await pg.stop();
    }
  },
});
