import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { daneVerify, usableTlsa } from "./dane.ts";
import { startTestCa } from "../../tests/lib/test_ca.ts";

const sha = (alg: string, b: Uint8Array) => new Uint8Array(createHash(alg).update(b).digest());
const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);

Deno.test("DANE: usable records and chain checks (RFC 7672 §3)", async () => {
  const ca = await startTestCa();
  const other = await startTestCa("another CA");
  try {
    const leaf = await ca.issue("mx", ["mx.example.test"]);
    const chain = [der(leaf.leafPem), der(ca.caPem)];
    const now = Date.now();
    assert.deepEqual(
      usableTlsa([
        { usage: 0, selector: 0, matching: 1, data: new Uint8Array(32) },
        { usage: 1, selector: 1, matching: 1, data: new Uint8Array(32) },
        { usage: 3, selector: 2, matching: 1, data: new Uint8Array(32) },
        { usage: 3, selector: 1, matching: 3, data: new Uint8Array(32) },
      ]),
      [],
      "PKIX-TA/EE and unknown selectors/matching types are unusable",
    );
    // DANE-EE: SPKI SHA-256, SHA-512, full certificate; the name does not matter.
    for (
      const data of [
        { selector: 1, matching: 1, data: sha("sha256", leaf.spki) },
        { selector: 1, matching: 2, data: sha("sha512", leaf.spki) },
        { selector: 0, matching: 0, data: chain[0] },
        { selector: 1, matching: 0, data: leaf.spki },
      ]
    ) {
      const v = daneVerify(chain, [{ usage: 3, ...data }], ["other.name.test"], now);
      assert.ok(v.ok, JSON.stringify(v));
    }
    const wrong = { usage: 3, selector: 1, matching: 1, data: new Uint8Array(32) };
    assert.equal(daneVerify(chain, [wrong], ["mx.example.test"], now).ok, false);
    // DANE-TA: the CA in the chain; the name is checked and the links must verify.
    const ta = { usage: 2, selector: 0, matching: 1, data: sha("sha256", chain[1]) };
    assert.ok(daneVerify(chain, [ta], ["mx.example.test"], now).ok);
    const misnamed = daneVerify(chain, [ta], ["other.example.test"], now);
    assert.ok(!misnamed.ok && /does not name/.test(misnamed.reason));
    const expired = daneVerify(chain, [ta], ["mx.example.test"], now + 400 * 86_400_000);
    assert.ok(!expired.ok && /expired/.test(expired.reason));
    // A chain whose "CA" did not sign the leaf.
    const forged = [chain[0], der(other.caPem)];
    const taOther = { usage: 2, selector: 0, matching: 1, data: sha("sha256", forged[1]) };
    assert.equal(daneVerify(forged, [taOther], ["mx.example.test"], now).ok, false);
    // The leaf itself never serves as a DANE-TA anchor.
    const leafAsTa = { usage: 2, selector: 0, matching: 1, data: sha("sha256", chain[0]) };
    assert.equal(daneVerify(chain, [leafAsTa], ["mx.example.test"], now).ok, false);
    assert.equal(daneVerify([], [wrong], ["x"], now).ok, false);
  } finally {
    await ca.close();
    await other.close();
  }
});
