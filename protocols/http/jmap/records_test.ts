import assert from "node:assert/strict";
import { changesSince, noteChange, type RecordDoc } from "./records.ts";

const doc = (): RecordDoc => ({ state: 0, objects: {}, log: [], next: 1 });

Deno.test("records: changesSince folds create/update/destroy per id (RFC 8620 §5.2)", () => {
  const d = doc();
  noteChange(d, "a", "c"); // 1
  noteChange(d, "b", "c"); // 2
  noteChange(d, "a", "u"); // 3
  noteChange(d, "b", "d"); // 4
  noteChange(d, "c", "u"); // 5
  assert.deepEqual(changesSince(d, "0", 0), {
    created: ["a"],
    updated: ["c"],
    destroyed: [],
    newState: "5",
    hasMoreChanges: false,
  });
  assert.deepEqual(changesSince(d, "2", 0)?.destroyed, ["b"]);
  assert.deepEqual(changesSince(d, "5", 0)?.created, []);
  // maxChanges: the first two entries, then the rest from the returned state.
  const first = changesSince(d, "0", 2)!;
  assert.deepEqual([first.created, first.newState, first.hasMoreChanges], [["a", "b"], "2", true]);
  assert.equal(changesSince(d, first.newState, 0)?.newState, "5");
  // Unknown or future states cannot be calculated.
  assert.equal(changesSince(d, "6", 0), null);
  assert.equal(changesSince(d, "x", 0), null);
});

Deno.test("records: a state older than the kept log is cannotCalculateChanges", () => {
  const d = doc();
  for (let i = 0; i < 600; i++) noteChange(d, `i${i}`, "c");
  assert.equal(d.log.length, 500);
  assert.equal(changesSince(d, "10", 0), null);
  assert.equal(changesSince(d, "100", 0)?.created.length, 500);
});
