/**
 * Alias operations (CLI `alias`; API `/api/admin/aliases`).
 *
 * @module
 */
import type { Alias } from "../../storage/mod.ts";
import { domainPart } from "../../mime/address.ts";
import { type AdminContext, audit } from "./context.ts";
import { UsageError } from "./errors.ts";
import { checkAddress, checkAliasSource, requireArg } from "./validate.ts";

export function listAliases(ctx: AdminContext): Promise<Alias[]> {
  return ctx.store.listAliases();
}

/** Sets SOURCE -> TARGET[,TARGET...] (adding the source's domain when new). */
export async function setAlias(
  ctx: AdminContext,
  source: string | undefined,
  targets: string | undefined,
): Promise<Alias> {
  const src = checkAliasSource(requireArg(source, "SOURCE"));
  const list = requireArg(targets, "TARGET").split(",").map((t) => t.trim()).filter((t) => t !== "")
    .map((t) => checkAddress(t, "TARGET"));
  if (list.length === 0) throw new UsageError("missing argument TARGET");
  const domain = domainPart(src);
  if (!(await ctx.store.hasDomain(domain))) await ctx.store.addDomain(domain);
  await ctx.store.setAlias(src, list);
  await audit(ctx, "alias.set", src, { targets: list });
  return { source: src, targets: list };
}

export async function removeAlias(ctx: AdminContext, source: string | undefined): Promise<string> {
  const src = checkAliasSource(requireArg(source, "SOURCE"));
  if (!(await ctx.store.getAlias(src))) throw new UsageError(`no such alias ${src}`, "not_found");
  await ctx.store.removeAlias(src);
  await audit(ctx, "alias.remove", src);
  return src;
}
