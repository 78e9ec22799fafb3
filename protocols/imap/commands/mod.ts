/**
 * The verb -> handler table. Which state allows which verb is in `../states.ts`.
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { APPEND } from "./append.ts";
import { CAPABILITY } from "./capability.ts";
import { CLOSE, UNSELECT } from "./close.ts";
import { COMPRESS } from "./compress.ts";
import { COPY, MOVE } from "./copy.ts";
import { ENABLE } from "./enable.ts";
import { EXPUNGE, UID_EXPUNGE } from "./expunge.ts";
import { FETCH } from "./fetch.ts";
import { ID } from "./id.ts";
import { IDLE } from "./idle.ts";
import { LIST, LSUB } from "./list.ts";
import { AUTHENTICATE, LOGIN } from "./login.ts";
import { LOGOUT } from "./logout.ts";
import { CREATE, DELETE, RENAME } from "./manage.ts";
import { NAMESPACE } from "./namespace.ts";
import { CHECK, NOOP } from "./noop.ts";
import { GETQUOTA, GETQUOTAROOT, SETQUOTA } from "./quota.ts";
import { SEARCH } from "./search.ts";
import { SORT, THREAD } from "./sort.ts";
import { EXAMINE, SELECT } from "./select.ts";
import { STARTTLS } from "./starttls.ts";
import { STATUS } from "./status.ts";
import { STORE } from "./store.ts";
import { SUBSCRIBE, UNSUBSCRIBE } from "./subscribe.ts";

// deno-lint-ignore no-explicit-any
type AnyHandler = CommandHandler<any>;

/** Every command by verb; UID commands under "UID <verb>" (RFC 9051 §6.4.9). */
export const COMMANDS: Readonly<Record<string, AnyHandler>> = {
  CAPABILITY,
  NOOP,
  LOGOUT,
  ID,
  STARTTLS,
  AUTHENTICATE,
  LOGIN,
  ENABLE,
  SELECT,
  EXAMINE,
  CREATE,
  DELETE,
  RENAME,
  SUBSCRIBE,
  UNSUBSCRIBE,
  LIST,
  LSUB,
  NAMESPACE,
  STATUS,
  APPEND,
  IDLE,
  GETQUOTA,
  GETQUOTAROOT,
  SETQUOTA,
  COMPRESS,
  CHECK,
  CLOSE,
  UNSELECT,
  EXPUNGE,
  SEARCH,
  FETCH,
  STORE,
  COPY,
  MOVE,
  SORT,
  THREAD,
  "UID SORT": SORT,
  "UID THREAD": THREAD,
  "UID EXPUNGE": UID_EXPUNGE,
  "UID SEARCH": SEARCH,
  "UID FETCH": FETCH,
  "UID STORE": STORE,
  "UID COPY": COPY,
  "UID MOVE": MOVE,
};
