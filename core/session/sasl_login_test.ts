import assert from "node:assert/strict";
import type { SaslExchange, SaslStep } from "../auth.ts";
import { loginInResponse, watchLogin } from "./sasl_login.ts";

const enc = new TextEncoder();

Deno.test("sasl login names: PLAIN, LOGIN, SCRAM; never the password", async () => {
  assert.equal(
    loginInResponse("PLAIN", enc.encode("\0bob@example.test\0secret")),
    "bob@example.test",
  );
  assert.equal(loginInResponse("PLAIN", enc.encode("nonsense")), null);
  assert.equal(loginInResponse("LOGIN", enc.encode("carol@example.test")), "carol@example.test");
  assert.equal(
    loginInResponse("SCRAM-SHA-256", enc.encode("n,,n=a=2Cb=3Dc@example.test,r=abc")),
    "a,b=c@example.test",
  );
  assert.equal(loginInResponse("SCRAM-SHA-256", enc.encode("c=biws,r=x,p=y")), null);

  const seen: Array<Uint8Array | null> = [];
  const inner: SaslExchange = {
    step(input): Promise<SaslStep> {
      seen.push(input);
      return Promise.resolve({ type: "challenge", data: new Uint8Array() });
    },
  };
  const w = watchLogin("LOGIN", inner);
  assert.equal(w.login, "");
  await w.step(null);
  await w.step(enc.encode("dave@example.test\r\nINFO forged"));
  await w.step(enc.encode("the-password"));
  assert.equal(w.login, "dave@example.test??INFO forged", "control characters replaced");
  assert.equal(seen.length, 3, "every response reaches the exchange");
  const long = watchLogin("PLAIN", inner);
  await long.step(enc.encode(`\0${"x".repeat(5000)}\0pw`));
  assert.ok(long.login.length <= 321);
});
