/**
 * VacationResponse (RFC 8621 §8): one object per account, id "singleton", stored in the
 * stored records (records.ts, type "vacation"), and copied into builtin:sieve's kv area,
 * where the plugin reads it at delivery and replies as a generated Sieve vacation rule
 * would (plugins/builtin/sieve/jmap_vacation.ts): one vacation state for JMAP and Sieve.
 *
 * @module
 */
import {
  checkArgs,
  idList,
  type JmapMethod,
  pick,
  propertyList,
  requireAccount,
  stringArg,
} from "./context.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";
import { noteChange, readDoc, writeDoc } from "./records.ts";
import { VACATION } from "./session.ts";
import { pluginNameFor, pluginStoreKv } from "../../../plugins/engine/store_kv.ts";
import {
  type JmapVacation,
  saveJmapVacation,
} from "../../../plugins/builtin/sieve/jmap_vacation.ts";

const TYPE = "vacation";
const ID = "singleton";
const PROPERTIES = ["id", "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody"];
const DEFAULTS: JsonObject = {
  isEnabled: false,
  fromDate: null,
  toDate: null,
  subject: null,
  textBody: null,
  htmlBody: null,
};
/** RFC 3339 UTCDate (RFC 8620 §1.4). */
const UTC_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$/;

const get: JmapMethod = {
  capability: VACATION,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "ids", "properties"]);
    const accountId = requireAccount(ctx, args);
    const ids = idList(args, "ids", ctx.limits.maxObjectsInGet);
    const properties = propertyList(args, "properties") ?? PROPERTIES;
    const unknown = properties.find((p) => !PROPERTIES.includes(p));
    if (unknown !== undefined) throw invalidArguments(`unknown property ${unknown.slice(0, 100)}`);
    const doc = await readDoc(ctx.deps.store, TYPE, ctx.account.id);
    const obj = { ...DEFAULTS, ...(doc.objects[ID] ?? {}), id: ID };
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of ids ?? [ID]) {
      if (id === ID) list.push(pick(obj, properties));
      else notFound.push(id);
    }
    return { accountId, state: String(doc.state), list, notFound };
  },
};

/** The bad property names of a patch. */
function badProperties(patch: JsonObject): string[] {
  const bad: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === "id") {
      if (v !== ID) bad.push(k);
    } else if (k === "isEnabled") {
      if (typeof v !== "boolean") bad.push(k);
    } else if (k === "fromDate" || k === "toDate") {
      if (v !== null && !(typeof v === "string" && UTC_DATE.test(v))) bad.push(k);
    } else if (k === "subject" || k === "textBody" || k === "htmlBody") {
      if (v !== null && !(typeof v === "string" && v.length <= 100_000)) bad.push(k);
    } else bad.push(k);
  }
  return bad;
}

const set: JmapMethod = {
  capability: VACATION,
  run(ctx, args) {
    checkArgs(args, ["accountId", "ifInState", "create", "update", "destroy"]);
    const accountId = requireAccount(ctx, args);
    return ctx.locks.with(TYPE, ctx.account.id, async () => {
      const doc = await readDoc(ctx.deps.store, TYPE, ctx.account.id);
      const oldState = String(doc.state);
      const ifInState = stringArg(args, "ifInState");
      if (ifInState !== null && ifInState !== oldState) throw new MethodError("stateMismatch");
      const out = {
        created: null as JsonObject | null,
        notCreated: null as JsonObject | null,
        updated: null as JsonObject | null,
        notUpdated: null as JsonObject | null,
        destroyed: null as string[] | null,
        notDestroyed: null as JsonObject | null,
      };
      // RFC 8621 §8.2: the singleton can be neither created nor destroyed.
      if (isObject(args.create)) {
        out.notCreated = {};
        for (const cid of Object.keys(args.create)) {
          out.notCreated[cid] = { type: "singleton" };
        }
      }
      const destroy = idList(args, "destroy", 10) ?? [];
      if (destroy.length > 0) {
        out.notDestroyed = Object.fromEntries(destroy.map((id) => [id, { type: "singleton" }]));
      }
      if (isObject(args.update)) {
        for (const [id, patch] of Object.entries(args.update)) {
          if (id !== ID) {
            (out.notUpdated ??= {})[id] = { type: "notFound" };
          } else if (!isObject(patch)) {
            (out.notUpdated ??= {})[id] = { type: "invalidPatch" };
          } else {
            const bad = badProperties(patch);
            if (bad.length > 0) {
              (out.notUpdated ??= {})[id] = { type: "invalidProperties", properties: bad };
            } else {
              const { id: _id, ...props } = patch;
              doc.objects[ID] = { ...(doc.objects[ID] ?? {}), ...props };
              noteChange(doc, ID, "u");
              (out.updated ??= {})[id] = null;
            }
          }
        }
      }
      if (String(doc.state) !== oldState) {
        await writeDoc(ctx.deps.store, TYPE, ctx.account.id, doc);
        // The sieve plugin's copy, which delivery reads (the records stay the JMAP truth).
        const plugin = pluginNameFor(ctx.deps.config.plugins, "builtin:sieve", "sieve");
        await saveJmapVacation(
          pluginStoreKv(ctx.deps.store, plugin),
          ctx.account.email,
          { ...DEFAULTS, ...doc.objects[ID] } as unknown as JmapVacation,
        );
        ctx.push.recordChanged(ctx.account.id, "VacationResponse", String(doc.state));
      }
      return { accountId, oldState, newState: String(doc.state), ...out };
    });
  },
};

export const VACATION_METHODS: Record<string, JmapMethod> = {
  "VacationResponse/get": get,
  "VacationResponse/set": set,
};
