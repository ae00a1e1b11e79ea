// Helpers for tests that need the real /dev/kvm or Deno FFI: they register as ignored, with the
// reason in the test name, when the host cannot run them.

import { type KvmAvailability, probeKvm } from "./availability.ts";
import { ffiPermitted } from "./libc.ts";

/** probeKvm() once per test module. */
export const KVM: KvmAvailability = probeKvm();

let warned = false;

/** Registers a test that needs a usable /dev/kvm; ignored (with the reason) otherwise. */
export function kvmTest(name: string, fn: () => void | Promise<void>): void {
  if (!KVM.usable && !warned) {
    warned = true;
    console.warn(`@pvkit/kvm live tests skipped: /dev/kvm unusable: ${KVM.reason}`);
  }
  Deno.test({
    name: KVM.usable ? name : `${name} (skipped: /dev/kvm unusable: ${KVM.reason})`,
    ignore: !KVM.usable,
    fn,
  });
}

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
