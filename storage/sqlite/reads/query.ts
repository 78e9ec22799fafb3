/**
 * The two ways a read runs on the reader connection's cached statements: one row, or all.
 *
 * @module
 */
import type { Row, Statements } from "../rows.ts";

type Param = string | number | null;

/** The first row of `sql`, if any. */
export function row(read: Statements, sql: string, ...params: Param[]): Row | undefined {
  return read.get(sql).get(...params) as Row | undefined;
}

/** Every row of `sql`. */
export function rows(read: Statements, sql: string, ...params: Param[]): Row[] {
  return read.get(sql).all(...params) as Row[];
}
