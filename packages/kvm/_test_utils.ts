// Helpers for tests that need the real /dev/kvm or Deno FFI: they register as ignored, with the
// reason in the test name, when the host cannot run them.

import type { KvmAvailability } from "./availability.ts";
import { ffiPermitted } from "./libc.ts";

export { kvmTest } from "./testing.ts";
import { kvmAvailability } from "./testing.ts";

/** probeKvm() once per process. */
export const KVM: KvmAvailability = kvmAvailability();

/** Registers a test that needs Deno FFI but not KVM; ignored (with the reason) otherwise. */
export function ffiTest(name: string, fn: () => void | Promise<void>): void {
  const usable = ffiPermitted();
  Deno.test({
    name: usable ? name : `${name} (skipped: Deno FFI is not permitted; run with --allow-ffi)`,
    ignore: !usable,
    fn,
  });
}

/** The number of fds this process has open (entries of /proc/self/fd). */
export function countOpenFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

/**
 * Narrows a discriminated union to one `kind`, failing the test otherwise (the `@std/assert`
 * this project maps to is untyped, so its `assert` does not narrow).
 */
export function expectKind<T extends { kind: string }, K extends T["kind"]>(
  value: T,
  kind: K,
  context = "",
): Extract<T, { kind: K }> {
  if (value.kind !== kind) {
    const detail = "message" in value ? `: ${String(value.message)}` : "";
    throw new Error(`expected kind "${kind}", got "${value.kind}"${detail}${context}`);
  }
  return value as Extract<T, { kind: K }>;
}
