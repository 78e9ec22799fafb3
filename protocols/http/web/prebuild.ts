/**
 * `deno task compile`'s first step: builds the webmail and the admin console into
 * `web/prebuilt/` (git-ignored), which the compile step then puts into the binary. A binary
 * cannot start esbuild's native program from inside itself, so it serves this build instead
 * (bundle.ts).
 *
 * @module
 */
import { writePrebuilt } from "./bundle.ts";

if (import.meta.main) {
  const dir = await writePrebuilt();
  console.log(`web app built into ${dir}`);
}
