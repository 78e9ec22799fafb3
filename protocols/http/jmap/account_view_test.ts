/**
 * readListedEmail: an Email destroyed between its listing and the read of its bytes is
 * notFound (null); a missing blob of an Email that still exists stays an error. (Seen in a
 * loaded suite: a webmail draft replaced while Email/get ran made it a serverFail, "no such
 * blob".)
 */
import assert from "node:assert/strict";
import { type EmailCopy, type Store, StoreError } from "../../../storage/mod.ts";
import { readListedEmail } from "./account_view.ts";

function store(opts: { blob: Uint8Array | Error; copies: number }): Store {
  return {
    readBlob: () =>
      opts.blob instanceof Error ? Promise.reject(opts.blob) : Promise.resolve(opts.blob),
    emailCopies: () => Promise.resolve(new Array(opts.copies).fill({} as EmailCopy)),
  } as unknown as Store;
}

Deno.test("readListedEmail: bytes, or null once the Email is gone; damage stays an error", async () => {
  const bytes = new TextEncoder().encode("Subject: x\r\n\r\nx\r\n");
  assert.equal(await readListedEmail(store({ blob: bytes, copies: 1 }), 1, 7), bytes);
  const gone = new StoreError("not_found", "no such blob: 7");
  assert.equal(await readListedEmail(store({ blob: gone, copies: 0 }), 1, 7), null);
  await assert.rejects(readListedEmail(store({ blob: gone, copies: 1 }), 1, 7), /no such blob/);
  const other = new Error("disk I/O error");
  await assert.rejects(readListedEmail(store({ blob: other, copies: 0 }), 1, 7), /disk I\/O/);
});
