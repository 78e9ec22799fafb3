/**
 * The heap in use after a full garbage collection, for tests that show input costs its size
 * and not more (V8's `gc` exposed once, on first use).
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

let gc: (() => void) | null = null;

/** Bytes of heap in use right after two full collections. */
export function heapAfterGc(): number {
  if (!gc) {
    v8.setFlagsFromString("--expose_gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
}
