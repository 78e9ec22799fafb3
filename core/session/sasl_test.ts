import assert from "node:assert/strict";
import type { SaslExchange, SaslStep } from "../auth.ts";
import type { Account } from "../../storage/mod.ts";
import { decodeBase64, encodeBase64, MAX_SASL_ROUNDS, runSasl, type SaslWire } from "./sasl.ts";

const enc = new TextEncoder();
const account = { id: 1, email: "bob@example.test" } as unknown as Account;

/** An exchange that challenges until it has seen `rounds` inputs, then succeeds. */
function exchange(rounds: number, seen: Array<Uint8Array | null>): SaslExchange {
  return {
    step(input): Promise<SaslStep> {
      seen.push(input);
      return Promise.resolve(
        seen.length > rounds
          ? { type: "success", account }
          : { type: "challenge", data: enc.encode(`c${seen.length}`) },
      );
    },
  };
}

/** A wire whose client answers with `answers`, in order. */
function wire(answers: string[], sent: string[], logins: string[] = []): SaslWire {
  return {
    challenge: (b64) => Promise.resolve(void sent.push(b64)),
    readLine: () => Promise.resolve(answers.shift() ?? ""),
    onLogin: (l) => logins.push(l),
  };
}

Deno.test("runSasl: the one exchange loop of AUTH and AUTHENTICATE", async (t) => {
  await t.step("base64 both ways, strict", () => {
    assert.equal(encodeBase64(enc.encode("hi")), "aGk=");
    assert.deepEqual([...decodeBase64("AGEAYg==")!], [0, 97, 0, 98]);
    assert.equal(decodeBase64("abc"), undefined);
    assert.equal(decodeBase64("ab!="), undefined);
  });

  await t.step('"=" is an empty initial response; none means the server speaks first', async () => {
    const seen: Array<Uint8Array | null> = [];
    const sent: string[] = [];
    const out = await runSasl("PLAIN", exchange(1, seen), null, wire(["=="], sent));
    assert.equal(out.ok, false); // "==" is not base64
    assert.deepEqual(seen, [null]);
    assert.deepEqual(sent, [encodeBase64(enc.encode("c1"))]);
    const seen2: Array<Uint8Array | null> = [];
    const ok = await runSasl("PLAIN", exchange(0, seen2), "=", wire([], []));
    assert.equal(ok.ok, true);
    assert.deepEqual(seen2, [new Uint8Array()]);
  });

  await t.step('"*" cancels; bad base64 is its own failure', async () => {
    const cancel = await runSasl("LOGIN", exchange(3, []), null, wire([" * "], []));
    assert.deepEqual(cancel, { ok: false, reason: "cancelled", login: "" });
    const bad = await runSasl("LOGIN", exchange(3, []), "!!!!", wire([], []));
    assert.deepEqual(bad, { ok: false, reason: "bad_base64", login: "" });
  });

  await t.step("the login name is captured (never the password)", async () => {
    const logins: string[] = [];
    const out = await runSasl(
      "LOGIN",
      exchange(2, []),
      encodeBase64(enc.encode("carol@example.test")),
      wire([encodeBase64(enc.encode("secret"))], [], logins),
    );
    assert.equal(out.ok, true);
    assert.equal(out.login, "carol@example.test");
    assert.ok(logins.every((l) => l === "carol@example.test"));
  });

  await t.step(`at most ${MAX_SASL_ROUNDS} steps in every protocol`, async () => {
    const seen: Array<Uint8Array | null> = [];
    const sent: string[] = [];
    const answers = Array.from({ length: 50 }, () => "AA==");
    const out = await runSasl("PLAIN", exchange(100, seen), null, wire(answers, sent));
    assert.deepEqual(out, { ok: false, reason: "too_many_rounds", login: "" });
    assert.equal(seen.length, MAX_SASL_ROUNDS);
    assert.equal(sent.length, MAX_SASL_ROUNDS - 1);
    const ok = await runSasl("PLAIN", exchange(MAX_SASL_ROUNDS - 1, []), null, wire(answers, []));
    assert.equal(ok.ok, true);
  });
});
