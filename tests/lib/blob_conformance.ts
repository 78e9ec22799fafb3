/**
 * The BlobStore conformance suite (storage/blobs.ts): run from each backend's test file
 * with a fixture that opens its store and its BlobStore on one database.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Store } from "../../storage/mod.ts";
import { StoreError } from "../../storage/mod.ts";
import { type BlobStore, bodyStart, hex, type R, sha256 } from "../../storage/blobs.ts";

/** A fresh store and the BlobStore of its database. */
export interface BlobFixture<Tx> {
  store: Store;
  blobs: BlobStore<Tx>;
  /** Runs `fn` in one transaction of the store's database, committed after. */
  inTx<T>(fn: (tx: Tx) => R<T>): Promise<T>;
  /** How many bodies the BlobStore holds (a look at its table, for the test only). */
  stored(): Promise<number>;
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** A message whose body (10 KB, shared) follows a header block of its own. */
function withBody(n: number, body: Uint8Array): Uint8Array {
  const head = enc.encode(`Received: by node ${n}\r\nSubject: same body\r\n\r\n`);
  const out = new Uint8Array(head.byteLength + body.byteLength);
  out.set(head);
  out.set(body, head.byteLength);
  return out;
}

async function notFound(p: R<unknown>, digest: Uint8Array): Promise<void> {
  await assert.rejects(Promise.resolve(p), (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected StoreError, got ${e}`);
    assert.equal(e.code, "not_found");
    assert.ok(e.message.includes(hex(digest)), `names the digest: ${e.message}`);
    return true;
  });
}

export async function runBlobStoreConformance<Tx>(
  t: Deno.TestContext,
  make: () => Promise<BlobFixture<Tx>>,
): Promise<void> {
  const step = (name: string, fn: (fx: BlobFixture<Tx>) => Promise<void>) =>
    t.step(name, async () => {
      const fx = await make();
      try {
        await fn(fx);
      } finally {
        await fx.cleanup();
      }
    });

  await step("put stores the same bytes once per digest and gives them back", async (fx) => {
    const bytes = randomBytes(5000);
    const d1 = await fx.inTx((tx) => fx.blobs.put(tx, bytes));
    const d2 = await fx.inTx((tx) => fx.blobs.put(tx, bytes.slice()));
    assert.deepEqual(new Uint8Array(d1), sha256(bytes), "the key is the SHA-256");
    assert.deepEqual(new Uint8Array(d2), new Uint8Array(d1));
    assert.equal(await fx.stored(), 1, "stored once");
    const got = await fx.inTx((tx) => fx.blobs.get(tx, d1));
    assert.deepEqual(new Uint8Array(got), bytes);
    const tail = await fx.inTx((tx) => fx.blobs.getRange(tx, d1, 4990, 100));
    assert.deepEqual(new Uint8Array(tail), bytes.subarray(4990), "clipped at the end");
    const past = await fx.inTx((tx) => fx.blobs.getRange(tx, d1, 6000, 10));
    assert.equal(past.byteLength, 0);
    assert.equal(await fx.inTx((tx) => fx.blobs.has(tx, d1)), true);
    await fx.inTx((tx) => fx.blobs.put(tx, randomBytes(4096)));
    assert.equal(await fx.stored(), 2);
  });

  await step("a digest never put is a clear not_found error", async (fx) => {
    const missing = sha256(enc.encode("never stored"));
    await notFound(fx.inTx((tx) => fx.blobs.get(tx, missing)), missing);
    await notFound(fx.inTx((tx) => fx.blobs.getRange(tx, missing, 0, 10)), missing);
    assert.equal(await fx.inTx((tx) => fx.blobs.has(tx, missing)), false);
  });

  await step("two deliveries with one body share it; each message reads back whole", async (fx) => {
    const { store } = fx;
    const account = await store.createAccount("blobs@example.test", "h");
    const target = [{ accountId: account.id, mailbox: "INBOX" }];
    const body = randomBytes(10 * 1024);
    const [m1, m2] = [withBody(1, body), withBody(22, body)];
    const [[p1], [p2]] = [await store.deliver(m1, target), await store.deliver(m2, target)];
    const short = enc.encode("Subject: s\r\n\r\nshort\r\n");
    const [[small]] = [await store.deliver(short, target)];
    assert.equal(await fx.stored(), 1, "one shared body; the small message keeps its own");
    const inbox = (await store.getMailbox(account.id, "INBOX"))!;
    const list = await store.listMessages(inbox.id);
    const blobOf = (uid: number) => list.find((m) => m.uid === uid)!.blobId;
    assert.notEqual(blobOf(p1.uid), blobOf(p2.uid), "two messages, two blobs");
    assert.deepEqual(new Uint8Array(await store.readBlob(blobOf(p1.uid))), m1);
    assert.deepEqual(new Uint8Array(await store.readBlob(blobOf(p2.uid))), m2);
    assert.deepEqual(new Uint8Array(await store.readBlob(blobOf(small.uid))), short);
    // Ranges inside the head, across the head and body, inside the body, past the end.
    const cut = bodyStart(m2);
    for (const [o, l] of [[0, 10], [cut - 5, 20], [cut + 100, 300], [m2.byteLength - 3, 50]]) {
      const got = await store.readBlobRange(blobOf(p2.uid), o, l);
      assert.deepEqual(new Uint8Array(got), m2.subarray(o, o + l), `range ${o}+${l}`);
    }
    assert.equal((await store.readBlobRange(blobOf(p2.uid), m2.byteLength + 5, 10)).byteLength, 0);
  });

  await step("a body goes once no message uses it, and not before", async (fx) => {
    const { store } = fx;
    const account = await store.createAccount("gone@example.test", "h");
    const target = [{ accountId: account.id, mailbox: "INBOX" }];
    const body = randomBytes(8 * 1024);
    const digest = sha256(body);
    const [[p1]] = [await store.deliver(withBody(1, body), target)];
    const [[p2]] = [await store.deliver(withBody(2, body), target)];
    const inbox = (await store.getMailbox(account.id, "INBOX"))!;
    await store.expunge(inbox.id, [p1.uid]);
    await fx.inTx((tx) => fx.blobs.deleteUnreferenced(tx));
    assert.equal(await fx.inTx((tx) => fx.blobs.has(tx, digest)), true, "still used by one");
    await store.expunge(inbox.id, [p2.uid]);
    const orphan = await fx.inTx((tx) => fx.blobs.put(tx, randomBytes(5000)));
    await fx.inTx((tx) => fx.blobs.deleteUnreferenced(tx));
    assert.equal(await fx.inTx((tx) => fx.blobs.has(tx, digest)), false, "its last message went");
    assert.equal(await fx.inTx((tx) => fx.blobs.has(tx, orphan)), false, "put, never used");
    assert.equal(await fx.stored(), 0);
  });
}
