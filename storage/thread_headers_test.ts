import assert from "node:assert/strict";
import { threadHeaders } from "./thread_headers.ts";

const enc = new TextEncoder();

Deno.test("threadHeaders: one Message-ID id is indexed, however many the field lists", () => {
  const ids = Array.from({ length: 3_000 }, (_, i) => `<i${i}@x.test>`).join("");
  const h = threadHeaders(
    enc.encode(
      `Message-ID: ${ids}\r\nReferences: <r1@x.test> <r2@x.test>\r\n` +
        `In-Reply-To: <r2@x.test>\r\nSubject: Re: [list] Hello\r\n\r\nbody\r\n`,
    ),
  );
  assert.deepEqual(h.ids, ["i0@x.test"]);
  assert.deepEqual(h.refs, ["r1@x.test", "r2@x.test"]);
  assert.equal(h.subject, "hello");
});
