import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { authenticate, sealMessage } from "mailauth";
import { dkimSigned, eml, testDkimKey } from "../../../tests/spam_helpers.ts";
import { authenticateSigned, headerEnd } from "./signed.ts";
import { crlfBuffer } from "./verify.ts";

const key = testDkimKey("sender.example", "s1");
const arcKey = testDkimKey("lists.example", "arc");
const TXT: Record<string, string> = {
  [key.name]: key.txt,
  [arcKey.name]: arcKey.txt,
  "_dmarc.sender.example": "v=DMARC1; p=reject",
  "sender.example": "v=spf1 ip4:192.0.2.1 -all",
};
const resolver = (name: string, type: string) => {
  const v = type === "TXT" ? TXT[name.replace(/\.$/, "")] : undefined;
  if (v) return Promise.resolve([[v]]);
  return Promise.reject(Object.assign(new Error("none"), { code: "ENOTFOUND" }));
};

/** What the plugin reads of a result, from authenticate() or authenticateSigned(). */
// deno-lint-ignore no-explicit-any
function view(r: any) {
  return {
    dkim: r.dkim.results.map((x: { info: string; status: { aligned?: unknown } }) => [
      x.info,
      x.status.aligned,
    ]),
    spf: [r.spf.info, r.spf.header],
    arc: r.arc ? [r.arc.info, r.arc.status.result] : false,
    dmarc: r.dmarc ? [r.dmarc.info, r.dmarc.policy] : false,
  };
}

async function same(raw: Uint8Array, ip = "192.0.2.1") {
  const o = { ip, helo: "mail.sender.example", sender: "a@sender.example", mta: "mx.test" };
  const want = await authenticate(Buffer.from(raw), {
    ...o,
    resolver,
    disableBimi: true,
    minBitLength: 1024,
    maxElapsedTime: 5000,
  } as never);
  const got = await authenticateSigned(crlfBuffer(raw), {
    ...o,
    resolver,
    minBitLength: 1024,
    maxElapsedTime: 5000,
  });
  assert.deepEqual(view(got), view(want));
  return got;
}

const lf = (s: string) => new TextEncoder().encode(s);
const plain = lf("From: A <a@sender.example>\nTo: u@example.test\nSubject: hi\n\nhello\nthere\n");

async function arcSealed(raw: Uint8Array): Promise<Uint8Array> {
  const r = await sealMessage(Buffer.from(raw), {
    signingDomain: arcKey.domain,
    selector: arcKey.selector,
    privateKey: arcKey.privateKey,
    authResults: "lists.example; dkim=pass; spf=pass; dmarc=pass",
    cv: "none",
  } as never);
  return Buffer.concat([Buffer.from(r), Buffer.from(raw)]);
}

Deno.test("auth: signed checks without mailauth's stream give authenticate()'s results", async (t) => {
  await t.step("headerEnd", () => {
    assert.equal(headerEnd(lf("A: b\r\n\r\nbody")), 8);
    assert.equal(headerEnd(lf("\r\nbody")), 2);
    assert.equal(headerEnd(lf("A: b\r\n")), -1);
  });
  await t.step("a good signature (LF and CRLF mail), SPF and DMARC pass", async () => {
    const r = await same(await dkimSigned(plain, key));
    assert.equal(r.dkim.results[0].status.result, "pass");
    assert.equal(r.dmarc && r.dmarc.status.result, "pass");
    await same(await dkimSigned(eml(["From: a@sender.example", "", "x"]), key));
  });
  await t.step("a changed body or From fails; DMARC p=reject fails too", async () => {
    const signed = new TextDecoder().decode(await dkimSigned(plain, key));
    const r = await same(lf(signed.replace("hello", "HELLO")), "198.51.100.7");
    assert.notEqual(r.dkim.results[0].status.result, "pass");
    assert.equal(r.dmarc && r.dmarc.status.result, "fail");
    await same(lf(signed.replace("A <a@", "B <a@")));
  });
  await t.step("odd shapes: no body, no blank line, empty header block", async () => {
    await same(await dkimSigned(lf("From: a@sender.example\n\n"), key));
    const signed = await dkimSigned(lf("From: a@sender.example\n"), key);
    await same(signed);
    await same(lf("\nDKIM-Signature: v=1; d=x\nbody\n"));
  });
  await t.step("an ARC-sealed message", async () => {
    const r = await same(await arcSealed(await dkimSigned(plain, key)));
    assert.equal(r.arc && r.arc.status.result, "pass");
  });
});
