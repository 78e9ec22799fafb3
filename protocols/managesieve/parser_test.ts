import assert from "node:assert/strict";
import { ManageSieveError } from "./errors.ts";
import { readCommand, sieveString, tokenize } from "./parser.ts";

const enc = new TextEncoder();

/** A connection stand-in reading from `wire`. */
function fakeConn(wire: string) {
  let buf = enc.encode(wire);
  const take = (n: number) => {
    const out = buf.slice(0, n);
    buf = buf.slice(n);
    return out;
  };
  return {
    readLine: (maxLen: number) => {
      const at = buf.findIndex((b, i) => b === 13 && buf[i + 1] === 10);
      if (at < 0 || at > maxLen) return Promise.reject(new Error("no line"));
      const line = take(at);
      take(2);
      return Promise.resolve(line);
    },
    readBytes: (n: number) => Promise.resolve(take(n)),
    skipBytes: (n: number) => Promise.resolve(void take(n)),
  };
}

Deno.test("managesieve parser: quoted strings, atoms, literals {n+} and {n}", async () => {
  assert.deepEqual(tokenize('PUTSCRIPT "a \\"b\\" \\\\" 12').map((t) => t.value), [
    "PUTSCRIPT",
    'a "b" \\',
    "12",
  ]);
  assert.throws(() => tokenize('"open'), ManageSieveError);
  assert.throws(() => tokenize('"bad \\n escape"'), ManageSieveError);
  const cmd = await readCommand(fakeConn('putscript "s" {5+}\r\nkeep;\r\n'), 1000, 100);
  assert.deepEqual(cmd, { verb: "PUTSCRIPT", args: ["s", "keep;"] });
  const two = await readCommand(fakeConn("RENAMESCRIPT {1}\r\na {1+}\r\nb\r\n"), 1000, 100);
  assert.deepEqual(two.args, ["a", "b"]);
  assert.equal(sieveString("plain"), '"plain"');
  assert.equal(sieveString('say "hi"'), '{8}\r\nsay "hi"');
});

Deno.test("managesieve parser: literals over the bound are refused, far over end the session", async () => {
  const conn = fakeConn('PUTSCRIPT "s" {150+}\r\n' + "x".repeat(150) + "\r\nNOOP\r\n");
  await assert.rejects(readCommand(conn, 1000, 100), (e: ManageSieveError) => {
    return e.code === "QUOTA/MAXSIZE" && !e.close;
  });
  assert.deepEqual(await readCommand(conn, 1000, 100), { verb: "NOOP", args: [] });
  await assert.rejects(
    readCommand(fakeConn('PUTSCRIPT "s" {9999999+}\r\n'), 1000, 100),
    (e: ManageSieveError) => e.close,
  );
  await assert.rejects(readCommand(fakeConn("A B C D E F\r\n"), 1000, 100), ManageSieveError);
});
