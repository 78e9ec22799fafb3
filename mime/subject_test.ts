import assert from "node:assert/strict";
import { baseSubject } from "./subject.ts";

Deno.test("baseSubject: reply/forward prefixes, list tags, (fwd), case, white space", () => {
  assert.equal(baseSubject("Lunch plans"), "lunch plans");
  assert.equal(baseSubject("Re: Lunch  plans"), "lunch plans");
  assert.equal(baseSubject("RE: [team] Fwd: re[2]: Lunch plans (fwd)"), "lunch plans");
  assert.equal(baseSubject("AW: SV: Fw: x"), "x");
  assert.equal(baseSubject("Regarding: x"), "regarding: x", "only whole prefixes");
  assert.equal(baseSubject(""), "");
  assert.equal(baseSubject("Re: ".repeat(50) + "deep"), "re: ".repeat(30) + "deep");
});
