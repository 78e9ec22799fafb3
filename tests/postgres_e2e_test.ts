/**
 * `serve` on PostgreSQL, end to end with real clients: python smtplib delivers over SMTP,
 * imaplib reads the message back byte for byte. The server and the CLI (`user add`) run as
 * separate processes on a private cluster (tests/lib/postgres.ts); nothing goes to SQLite.
 * Ignored, with the reason printed, when PostgreSQL is not installed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { python } from "./harness.ts";
import { skipPostgres, startPostgres } from "./lib/postgres.ts";
import { startDenomailProcess } from "./lib/server_process.ts";

const DELIVER_AND_READ_PY = String.raw`
import base64, imaplib, smtplib, sys
smtp_port, imap_port = int(sys.argv[1]), int(sys.argv[2])
msg = base64.b64decode(sys.argv[3])
s = smtplib.SMTP("127.0.0.1", smtp_port)
s.sendmail("sender@remote.test", ["alice@example.test"], msg)
s.quit()
m = imaplib.IMAP4("127.0.0.1", imap_port)
m.login("alice@example.test", "alice-password")
typ, data = m.select("INBOX")
assert typ == "OK" and data[0] == b"1", data
typ, data = m.fetch("1", "(BODY.PEEK[])")
assert typ == "OK", data
body = data[0][1]
# SEARCH goes through the PostgreSQL pre-filter, then the evaluator confirms.
assert m.search("UTF-8", "BODY", '"LEADING DOT"') == ("OK", [b"1"]), "body search"
assert m.search(None, "TEXT", "over") == ("OK", [b"1"]), "text search"
assert m.search(None, "BODY", "postgresql") == ("OK", [b""]), "subject is not body"
sys.stdout.write(base64.b64encode(body).decode())
m.logout()
`;

Deno.test({
  name: "postgres e2e: smtplib delivers, imaplib reads it back byte-exact and SEARCHes it",
  ignore: skipPostgres(),
  async fn() {
    const pg = await startPostgres();
    try {
      const srv = await startDenomailProcess({
        prefix: "denomail-pg-e2e-",
        listen: ["smtp", "imap"],
        user: ["alice@example.test", "alice-password"],
        tables: `[storage]\nbackend = "postgres"\nurl = "${pg.url}"\n`,
      });
      try {
        const sent = "From: sender@remote.test\r\nTo: alice@example.test\r\n" +
          "Subject: over PostgreSQL\r\nMessage-ID: <pg-e2e@remote.test>\r\n\r\n" +
          "caf\u00e9 line one\r\n.leading dot\r\n\r\nlast line\r\n";
        const bytes = new TextEncoder().encode(sent);
        const r = await python(DELIVER_AND_READ_PY, [
          String(srv.proc.ports.smtp),
          String(srv.proc.ports.imap),
          btoa(String.fromCharCode(...bytes)),
        ]);
        const got = Uint8Array.from(atob(r.stdout.trim()), (c) => c.charCodeAt(0));
        // The server prepends its trace fields (RFC 5321 §4.4); the rest is as sent.
        assert.ok(got.length > bytes.length, "trace fields were added");
        assert.deepEqual(got.subarray(got.length - bytes.length), bytes);
        assert.match(
          new TextDecoder().decode(got),
          /^Return-Path: <sender@remote\.test>\r\nReceived: /,
        );
        // Stored in PostgreSQL, not in a SQLite file under data_dir.
        await assert.rejects(Deno.stat(join(srv.dir, "data", "denomail.db")), Deno.errors.NotFound);
      } finally {
        await srv.stop();
      }
    } finally {
      await pg.stop();
    }
  },
});
