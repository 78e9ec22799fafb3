/**
 * The verb -> handler table. State legality lives in ../states.ts, not here.
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { capa } from "./capa.ts";
import { stls } from "./stls.ts";
import { pass, user } from "./user_pass.ts";
import { auth } from "./auth.ts";
import { stat } from "./stat.ts";
import { list, uidl } from "./list.ts";
import { retr, top } from "./retr.ts";
import { dele, rset } from "./dele.ts";
import { noop } from "./noop.ts";
import { quit } from "./quit.ts";

/** Every command the server knows. */
export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map<string, CommandHandler>([
  ["CAPA", capa],
  ["STLS", stls],
  ["USER", user],
  ["PASS", pass],
  ["AUTH", auth],
  ["STAT", stat],
  ["LIST", list],
  ["UIDL", uidl],
  ["RETR", retr],
  ["TOP", top],
  ["DELE", dele],
  ["RSET", rset],
  ["NOOP", noop],
  ["QUIT", quit],
]);
