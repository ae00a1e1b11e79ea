/**
 * Whether KVM can be used from this Deno process, as data rather than an exception, so tests
 * can skip and the CLI can fall back to the emulated backend with a clear message.
 *
 * @module
 */

import { KvmError } from "./errors.ts";
import { KVM_API_VERSION } from "./ioctl_numbers.ts";
import { ffiPermitted } from "./libc.ts";
import { KvmSystem } from "./system.ts";
import { openFailureReason } from "./_open_failure.ts";

/**
 * The answer of {@linkcode probeKvm}: usable with the API version, or not with a reason.
 *
 * @example
 * ```ts
 * import { type KvmAvailability, probeKvm } from "@pvkit/kvm";
 * const kvm: KvmAvailability = probeKvm();
 * console.log(kvm.usable ? `KVM API ${kvm.apiVersion}` : `no KVM: ${kvm.reason}`);
 * ```
 */
export type KvmAvailability =
  | { usable: true; apiVersion: number }
  | { usable: false; reason: string };

/**
 * Checks that KVM is usable: Linux, Deno FFI permitted, the device opens read-write, and
 * KVM_GET_API_VERSION returns 12. Never throws; the device is closed again before returning.
 *
 * Reasons read like `/dev/kvm does not exist`, `permission denied opening /dev/kvm`,
 * `KVM API version 11, expected 12` or `Deno FFI is not permitted (run with --allow-ffi)`.
 *
 * @example
 * ```ts
 * import { probeKvm } from "@pvkit/kvm";
 * const kvm = probeKvm();
 * Deno.test({
 *   name: kvm.usable ? "boots" : `boots (skipped: /dev/kvm unusable: ${kvm.reason})`,
 *   ignore: !kvm.usable,
 *   fn() {},
 * });
 * ```
 */
export function probeKvm(path = "/dev/kvm"): KvmAvailability {
  try {
    if (Deno.build.os !== "linux") return unusable(`KVM needs Linux; this is ${Deno.build.os}`);
    if (!ffiPermitted()) return unusable("Deno FFI is not permitted (run with --allow-ffi)");
    let kvm: KvmSystem;
    try {
      kvm = KvmSystem.open(path);
    } catch (e) {
      if (e instanceof KvmError) return unusable(openFailureReason(path, e.errno));
      throw e;
    }
    try {
      const apiVersion = kvm.kvmGetApiVersion();
      if (apiVersion !== KVM_API_VERSION) {
        return unusable(`KVM API version ${apiVersion}, expected ${KVM_API_VERSION}`);
      }
      return { usable: true, apiVersion };
    } catch (e) {
      if (e instanceof KvmError) return unusable(`${path} is not a KVM device (${e.message})`);
      throw e;
    } finally {
      kvm.close();
    }
  } catch (e) {
    return unusable(e instanceof Error ? e.message : String(e));
  }
}

function unusable(reason: string): KvmAvailability {
  return { usable: false, reason };
}
