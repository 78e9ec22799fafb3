import assert from "node:assert/strict";
import { decodeResponse, encodeQuery, RR_TYPE } from "./dns_wire.ts";

Deno.test("dns wire: AD bit asked and read (RFC 6840 §5.7), TLSA decoded (RFC 6698 §2.1)", () => {
  const q = encodeQuery(0x1234, "_25._tcp.mx.example.test", RR_TYPE.TLSA);
  assert.equal(q[2], 0x01, "RD");
  assert.equal(q[3] & 0x20, 0x20, "AD set in the query");
  // A response: the question, then one TLSA answer (name by compression pointer to 12).
  const rdata = [3, 1, 1, 0xaa, 0xbb, 0xcc];
  const answer = [0xc0, 12, 0, 52, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata];
  const head = [0x12, 0x34, 0x81, 0xa0, 0, 1, 0, 1, 0, 0, 0, 0];
  const res = decodeResponse(new Uint8Array([...head, ...q.subarray(12), ...answer]));
  assert.equal(res.authenticated, true);
  assert.deepEqual(res.answers[0].data, {
    usage: 3,
    selector: 1,
    matching: 1,
    data: new Uint8Array([0xaa, 0xbb, 0xcc]),
  });
  const noAd = [...head];
  noAd[3] = 0x80;
  assert.equal(
    decodeResponse(new Uint8Array([...noAd, ...q.subarray(12), ...answer])).authenticated,
    false,
  );
  const short = [0xc0, 12, 0, 52, 0, 1, 0, 0, 0, 60, 0, 2, 3, 1];
  assert.throws(
    () => decodeResponse(new Uint8Array([...head, ...q.subarray(12), ...short])),
    /TLSA/,
  );
});
