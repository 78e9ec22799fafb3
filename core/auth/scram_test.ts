import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { Authenticator, hashPassword, type SaslStep } from "../auth.ts";
import type { Account, Store } from "../../storage/mod.ts";
import { decodeSaslName, parseClientFirst } from "./scram.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const PASSWORD = "correct horse";
const hash = await hashPassword(PASSWORD);

/** Just enough of a Store for the authenticator: one account. */
function fakeStore(): Store {
  const account = { id: 1, email: "alice@example.test", passwordHash: hash } as Account;
  return {
    getAccount: (email: string) =>
      Promise.resolve(email.toLowerCase() === account.email ? account : null),
  } as unknown as Store;
}

function auth(opts: { secret?: Uint8Array; limits?: Record<string, unknown> } = {}) {
  return new Authenticator(fakeStore(), {
    secret: opts.secret ?? enc.encode("s".repeat(32)),
    limits: { exempt: [], ...opts.limits },
    now: () => 1_000_000,
  });
}

function text(step: SaslStep): string {
  assert.equal(step.type, "challenge", JSON.stringify(step));
  return dec.decode((step as { data: Uint8Array }).data);
}

/** Runs client-first and returns the server-first attributes. */
async function serverFirst(a: Authenticator, user: string, gs2 = "n,,") {
  const ex = a.startSasl("SCRAM-SHA-256", "192.0.2.1")!;
  const sf = text(await ex.step(enc.encode(`${gs2}n=${user},r=abc`)));
  return { ex, sf, attrs: new Map(sf.split(",").map((p) => [p[0], p.slice(2)])) };
}

Deno.test("scram: an unknown user's salt is keyed by the server secret, stable, with real iterations", async () => {
  const a = auth();
  const known = (await serverFirst(a, "alice@example.test")).attrs;
  const u1 = (await serverFirst(a, "nobody@example.test")).attrs;
  const u2 = (await serverFirst(a, "NOBODY@example.test")).attrs;
  const other =
    (await serverFirst(auth({ secret: enc.encode("t".repeat(32)) }), "nobody@example.test"))
      .attrs;
  assert.equal(u1.get("s"), u2.get("s"), "stable per name (as a real account's salt is)");
  assert.notEqual(u1.get("s"), other.get("s"), "depends on the secret");
  const public16 = btoa(String.fromCharCode(
    ...createHash("sha256").update("nobody@example.test").digest().subarray(0, 16),
  ));
  assert.notEqual(u1.get("s"), public16, "not the old sha256(user)[:16]");
  assert.equal(atob(u1.get("s")!).length, atob(known.get("s")!).length);
  assert.equal(u1.get("i"), known.get("i"));
  assert.equal(u1.get("i"), "4096");
  a.close();
});

/** The client side of RFC 5802 §3. */
function clientFinal(sf: string, gs2: string, clientFirstBare: string, password: string) {
  const attrs = new Map(sf.split(",").map((p) => [p[0], p.slice(2)]));
  const salted = pbkdf2Sync(
    password,
    Buffer.from(attrs.get("s")!, "base64"),
    Number(attrs.get("i")),
    32,
    "sha256",
  );
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const withoutProof = `c=${btoa(gs2)},r=${attrs.get("r")}`;
  const authMessage = `${clientFirstBare},${sf},${withoutProof}`;
  const sig = createHmac("sha256", storedKey).update(authMessage).digest();
  const proof = clientKey.map((b, i) => b ^ sig[i]);
  return `${withoutProof},p=${Buffer.from(proof).toString("base64")}`;
}

Deno.test("scram: a good proof logs in; an authzid of the same user is accepted", async () => {
  const a = auth();
  for (const gs2 of ["n,,", "n,a=alice@example.test,"]) {
    const { ex, sf } = await serverFirst(a, "alice@example.test", gs2);
    const final = clientFinal(sf, gs2, "n=alice@example.test,r=abc", PASSWORD);
    assert.match(text(await ex.step(enc.encode(final))), /^v=/);
    const done = await ex.step(new Uint8Array());
    assert.equal(done.type, "success");
  }
  a.close();
});

Deno.test("scram: a= naming another user and m= extensions are refused (RFC 5802 §5.1)", async () => {
  const a = auth();
  const first = async (msg: string) =>
    await a.startSasl("SCRAM-SHA-256", "192.0.2.1")!.step(enc.encode(msg));
  assert.deepEqual(await first("n,a=admin@example.test,n=alice@example.test,r=abc"), {
    type: "failure",
    reason: "invalid",
  });
  assert.deepEqual(await first("n,,m=ext,n=alice@example.test,r=abc"), {
    type: "failure",
    reason: "invalid",
  });
  assert.deepEqual(await first("p=tls-unique,,n=alice@example.test,r=abc"), {
    type: "failure",
    reason: "malformed",
  });
  assert.deepEqual(await first("n,,n=al=41ice@example.test,r=abc"), {
    type: "failure",
    reason: "malformed",
  });
  // Unknown attributes after the nonce are ignored (RFC 5802 §7).
  assert.equal((await first("n,,n=alice@example.test,r=abc,x=1")).type, "challenge");
  assert.equal(decodeSaslName("a=2Cb=3Dc"), "a,b=c");
  assert.equal(parseClientFirst("n,,r=abc,n=x"), "malformed");
  a.close();
});

Deno.test("scram: salt probes count as failed logins", async () => {
  const a = auth({ limits: { maxFailuresPerAddress: 3 } });
  for (let i = 0; i < 3; i++) await serverFirst(a, `user${i}@example.test`);
  assert.ok(a.isThrottled("192.0.2.1"));
  const r = await a.startSasl("SCRAM-SHA-256", "192.0.2.1")!.step(
    enc.encode("n,,n=alice@example.test,r=abc"),
  );
  assert.deepEqual(r, { type: "failure", reason: "throttled" });
  a.close();
});
