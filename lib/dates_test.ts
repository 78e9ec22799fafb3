import assert from "node:assert/strict";
import { rfc5322Date } from "./dates.ts";

Deno.test("dates: RFC 5322 date-time in UTC", () => {
  assert.equal(rfc5322Date(Date.UTC(2023, 10, 5, 10, 3, 9)), "Sun, 5 Nov 2023 10:03:09 +0000");
  assert.equal(rfc5322Date(Date.UTC(2024, 0, 31, 23, 59, 59)), "Wed, 31 Jan 2024 23:59:59 +0000");
});
