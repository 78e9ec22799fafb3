import assert from "node:assert/strict";
import { parseMime } from "../../../mime/mod.ts";
import { buildEmail } from "./email_build.ts";
import { SetFailure } from "./errors.ts";

const none = () => Promise.resolve(null);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("email_build: no header injection through addresses, raw values or subjects", async () => {
  await assert.rejects(buildEmail({ to: [{ email: "x,evil@y.test" }] }, none, "h"), SetFailure);
  await assert.rejects(
    buildEmail({ headers: [{ name: "X-A", value: "\u00fc" }] }, none, "h"),
    SetFailure,
  );
  const m = text(await buildEmail({ subject: "x\r\nBcc: evil@x.test" }, none, "h.test"));
  assert.ok(!/^Bcc:/m.test(m));
  assert.match(m, /^Message-ID: <[^>]+@h\.test>$/m);
});

Deno.test("email_build: bodyStructure multipart/alternative with an attachment blob", async () => {
  const blob = (id: string) =>
    Promise.resolve(id === "u1" ? { data: new Uint8Array([0, 1, 255]), type: "x/y" } : null);
  const bytes = await buildEmail(
    {
      bodyStructure: {
        type: "multipart/mixed",
        subParts: [
          {
            type: "multipart/alternative",
            subParts: [{ partId: "t" }, { partId: "h", type: "text/html" }],
          },
          { blobId: "u1", name: "d\u00e4t.bin", disposition: "attachment" },
        ],
      },
      bodyValues: { t: { value: "hi" }, h: { value: "<b>\u00e9</b>" } },
    },
    blob,
    "h",
  );
  const root = parseMime(bytes);
  assert.equal(`${root.type}/${root.subtype}`, "multipart/mixed");
  assert.equal(root.kind, "multipart");
  await assert.rejects(
    buildEmail({ bodyStructure: { blobId: "u2" } }, blob, "h"),
    (e: SetFailure) => e.type === "blobNotFound",
  );
});
