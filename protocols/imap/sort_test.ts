import assert from "node:assert/strict";
import { parseMime } from "../../mime/mod.ts";
import { ArgReader } from "./parser.ts";
import {
  baseSubject,
  casemap,
  parseSentDate,
  parseSortCriteria,
  type SortItem,
  sortItem,
  sortItems,
} from "./sort.ts";
import { formatThreads, threadOrderedSubject, threadReferences } from "./thread.ts";

const enc = new TextEncoder();

function reader(text: string): ArgReader {
  return new ArgReader({ lines: [enc.encode(text)], literals: [] });
}

/** A SortItem from header lines. */
function item(seq: number, headers: string, internalDate = 0, size = 100): SortItem {
  return sortItem(parseMime(enc.encode(headers.replace(/\n/g, "\r\n") + "\r\n\r\n")), {
    seq,
    uid: seq * 10,
    size,
    internalDate,
  });
}

Deno.test("SORT (RFC 5256 §2, §3)", async (t) => {
  await t.step("base subject extraction (§2.1)", () => {
    const cases: Array<[string, string, boolean]> = [
      ["Hello", "Hello", false],
      ["  Hello \t  world  ", "Hello world", false],
      ["Re: Hello", "Hello", true],
      ["RE: re:Re : x", "x", true], // subj-refwd allows white space before ":"
      ["Fwd: Fw: FW: x", "x", true],
      ["Re[2]: x", "x", true],
      ["[list] Re: x", "x", true],
      ["[a][b] c", "c", false],
      ["[only]", "[only]", false],
      ["Foo (fwd) (FWD)  ", "Foo", true],
      ["[Fwd: Re: original]", "original", true],
      ["[fwd: [fwd: x]]", "x", true],
      ["re:", "", true],
      ["Ref: not a reply", "Ref: not a reply", false],
    ];
    for (const [input, want, reply] of cases) {
      const got = baseSubject(input);
      assert.equal(got.text, want, input);
      assert.equal(got.isReply, reply, input);
    }
    assert.equal(casemap("Hello Wörld"), "HELLO WöRLD");
    // Long runs are stripped whole (each step re-matched the rest before: quadratic).
    assert.deepEqual(baseSubject("[a] ".repeat(50_000) + "z"), { text: "z", isReply: false });
    assert.deepEqual(baseSubject("y" + " (fwd)".repeat(50_000)), { text: "y", isReply: true });
    assert.deepEqual(baseSubject("[a] re: ".repeat(20_000) + "[b]"), {
      text: "[b]",
      isReply: true,
    });
  });

  await t.step("sent dates (§2.2)", () => {
    assert.equal(parseSentDate("Mon, 7 Feb 1994 21:52:25 -0800"), Date.UTC(1994, 1, 8, 5, 52, 25));
    assert.equal(parseSentDate("7 Feb 94 21:52 GMT"), Date.UTC(1994, 1, 7, 21, 52));
    assert.equal(
      parseSentDate("Tue, 1 Jul 2003 10:52:37 +0200 (CEST)"),
      Date.UTC(2003, 6, 1, 8, 52, 37),
    );
    assert.equal(parseSentDate("yesterday"), null);
    assert.equal(parseSentDate("32 Jan 2020 10:00:00 +0000"), null);
  });

  await t.step("criteria parse; REVERSE; ties keep mailbox order", () => {
    assert.deepEqual(parseSortCriteria(reader("(REVERSE date subject)")), [
      { key: "DATE", reverse: true },
      { key: "SUBJECT", reverse: false },
    ]);
    assert.throws(() => parseSortCriteria(reader("()")), /Empty list/);
    assert.throws(() => parseSortCriteria(reader("(REVERSE)")), /Expected a space/);
    assert.throws(() => parseSortCriteria(reader("(FOO)")), /Unknown sort key/);
    const items = [
      item(1, "From: Zed <z@x.test>\nSubject: b\nDate: 2 Jan 2020 00:00:00 +0000", 5, 300),
      item(2, "From: adam@x.test\nSubject: Re: a\nDate: 1 Jan 2020 00:00:00 +0000", 9, 100),
      item(3, 'From: "Bob" <bob@x.test>\nSubject: a', 1, 200),
      item(4, "Subject: [x] B\nDate: bogus", 7, 100),
    ];
    const order = (crit: string) =>
      sortItems(items, parseSortCriteria(reader(crit))).map((i) => i.seq);
    assert.deepEqual(order("(ARRIVAL)"), [3, 1, 4, 2]);
    // No Date (3) or an invalid one (4): INTERNALDATE stands in.
    assert.deepEqual(order("(DATE)"), [3, 4, 2, 1]);
    assert.deepEqual(order("(SIZE)"), [2, 4, 3, 1]);
    assert.deepEqual(order("(REVERSE SIZE)"), [1, 3, 2, 4]);
    assert.deepEqual(order("(SUBJECT)"), [2, 3, 1, 4]);
    assert.deepEqual(order("(SUBJECT REVERSE ARRIVAL)"), [2, 3, 4, 1]);
    assert.deepEqual(order("(FROM)"), [4, 2, 3, 1]); // "" < ADAM < BOB < Z
    assert.deepEqual(order("(DISPLAYFROM)"), [4, 2, 3, 1]); // "" < ADAM@X.TEST < BOB < ZED
    assert.deepEqual(order("(TO)"), [1, 2, 3, 4]); // all empty: mailbox order
  });
});

Deno.test("THREAD (RFC 5256 §4)", async (t) => {
  await t.step("ORDEREDSUBJECT", () => {
    const items = [
      item(1, "Subject: A\nDate: 1 Jan 2020 00:00:00 +0000"),
      item(2, "Subject: B\nDate: 2 Jan 2020 00:00:00 +0000"),
      item(3, "Subject: Re: A\nDate: 3 Jan 2020 00:00:00 +0000"),
      item(4, "Subject: re: a\nDate: 4 Jan 2020 00:00:00 +0000"),
      item(5, "Subject: Re: B\nDate: 5 Jan 2020 00:00:00 +0000"),
      item(6, "Subject: C\nDate: 1 Jan 2019 00:00:00 +0000"),
    ];
    const out = formatThreads(threadOrderedSubject(items), (i) => i.seq);
    assert.equal(out, "(6)(1 (3)(4))(2 5)");
  });

  await t.step("REFERENCES: parents, missing parents, subjects, loops", () => {
    const d = (n: number) => `Date: ${n} Jan 2020 00:00:00 +0000`;
    const items = [
      item(1, `Message-ID: <a@x>\nSubject: Topic\n${d(1)}`),
      item(2, `Message-ID: <b@x>\nReferences: <a@x>\nSubject: Re: Topic\n${d(2)}`),
      item(3, `Message-ID: <c@x>\nReferences: <a@x> <b@x>\nSubject: Re: Topic\n${d(3)}`),
      item(4, `Message-ID: <d@x>\nIn-Reply-To: <a@x>\nSubject: Re: Topic\n${d(4)}`),
      // Two replies to a message we do not have: a dummy root with two children.
      item(5, `Message-ID: <e@x>\nReferences: <gone@x>\nSubject: Other\n${d(5)}`),
      item(6, `Message-ID: <f@x>\nReferences: <gone@x>\nSubject: Other\n${d(6)}`),
      // No references, same subject as an existing thread: gathered under it (§4 (5)).
      item(7, `Message-ID: <g@x>\nSubject: Re: Topic\n${d(7)}`),
      // A loop of references must not hang or lose messages.
      item(8, `Message-ID: <h@x>\nReferences: <i@x>\nSubject: Loop\n${d(8)}`),
      item(9, `Message-ID: <i@x>\nReferences: <h@x>\nSubject: Loop 2\n${d(9)}`),
      // Duplicate Message-ID: a thread of its own.
      item(10, `Message-ID: <a@x>\nSubject: Dup\n${d(10)}`),
    ];
    const out = formatThreads(threadReferences(items), (i) => i.seq);
    // 9 (id i) cannot become the child of 8, which already hangs below i: no loop.
    assert.equal(out, "(1 (2 3)(4)(7))((5)(6))(9 8)(10)");
    const all = [...out.matchAll(/\d+/g)].map((m) => Number(m[0])).sort((a, b) => a - b);
    assert.deepEqual(all, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  await t.step("REFERENCES: a one-child dummy is pruned; empty input", () => {
    const items = [
      item(1, "Message-ID: <x@y>\nReferences: <missing@y>\nSubject: s"),
    ];
    assert.equal(formatThreads(threadReferences(items), (i) => i.uid), "(10)");
    assert.equal(formatThreads(threadReferences([]), (i) => i.uid), "");
  });

  await t.step("REFERENCES: hostile chains stay iterative and within the loop-check budget", () => {
    // 10,000 messages make pairs "a<k> -> b<k>" (roots with a child, so a loop check must
    // walk); 20 more each continue one line of descent through 500 of those roots. The
    // chain is 10,000 deep: recursion overflowed the stack, the walks were quadratic.
    const raw = (seq: number, id: string, refs: string[]): SortItem => ({
      ...item(seq, `Subject: s${seq % 7}`),
      messageId: id,
      references: refs,
    });
    const items: SortItem[] = [];
    for (let k = 0; k < 10_000; k++) items.push(raw(items.length + 1, `b${k}`, [`a${k}`]));
    let tail = "start";
    for (let i = 0; i < 20; i++) {
      const refs = [tail, ...Array.from({ length: 500 }, (_, k) => `a${i * 500 + k}`)];
      tail = `c${i}`;
      items.push(raw(items.length + 1, tail, refs));
    }
    const out = formatThreads(threadReferences(items), (i) => i.seq);
    const all = [...out.matchAll(/\d+/g)].map((m) => Number(m[0])).sort((a, b) => a - b);
    assert.deepEqual(all, items.map((i) => i.seq));
    let depth = 0;
    for (const ch of out) {
      depth += ch === "(" ? 1 : ch === ")" ? -1 : 0;
      assert.ok(depth >= 0);
    }
    assert.equal(depth, 0);
  });
});
