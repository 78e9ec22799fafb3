/**
 * Test helper: the structural invariants every parsed tree must keep, whatever the input.
 * Used by the unit and property tests; not part of the public API.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MAX_DEPTH, type MimePart } from "../../mime/types.ts";

/** Asserts offsets are ordered and in bounds, children nest in order, caps hold. */
export function assertInvariants(root: MimePart, length: number): void {
  let count = 0;
  const visit = (p: MimePart, lo: number, hi: number, depth: number) => {
    count++;
    assert.ok(depth <= MAX_DEPTH + 1, `depth ${depth}`);
    assert.equal(p.depth, depth);
    assert.ok(lo <= p.headerStart, `headerStart ${p.headerStart} < ${lo}`);
    assert.ok(p.headerStart <= p.headerEnd, "headerStart <= headerEnd");
    assert.equal(p.headerEnd, p.bodyStart);
    assert.ok(p.bodyStart <= p.bodyEnd, `bodyStart ${p.bodyStart} <= bodyEnd ${p.bodyEnd}`);
    assert.ok(p.bodyEnd <= hi, `bodyEnd ${p.bodyEnd} <= ${hi}`);
    assert.ok(p.headerSeparator >= 0 && p.headerSeparator <= 2);
    assert.ok(p.lines >= 0 && p.lines <= p.bodyEnd - p.bodyStart);
    for (const f of p.headers) {
      assert.ok(p.headerStart <= f.start && f.start < f.valueStart && f.valueStart <= f.end);
      assert.ok(f.end <= p.headerEnd);
    }
    let prev = p.bodyStart;
    for (const c of p.children) {
      assert.equal(p.kind, "multipart");
      visit(c, prev, p.bodyEnd, depth + 1);
      prev = c.bodyEnd;
    }
    if (p.embedded) {
      assert.equal(p.kind, "message");
      assert.equal(p.embedded.headerStart, p.bodyStart);
      assert.equal(p.embedded.bodyEnd, p.bodyEnd);
      visit(p.embedded, p.bodyStart, p.bodyEnd, depth + 1);
    }
  };
  assert.equal(root.headerStart, 0);
  assert.equal(root.bodyEnd, length);
  visit(root, 0, length, 0);
  assert.ok(count <= 10_001, `part count ${count}`);
}
