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
