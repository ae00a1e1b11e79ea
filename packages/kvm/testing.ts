/**
 * Registering tests that need a usable `/dev/kvm`. Outside the KVM suite such a test is ignored,
 * with the reason in its name, where KVM is unusable. Inside the KVM suite (`PVKIT_KVM_SUITE=1`,
 * set by `deno task test:kvm`, which runs on a real KVM or inside `pvkit nested`) it runs, and
 * fails with the reason, so a KVM test never passes by being skipped.
 *
 * @module
 */

import { type KvmAvailability, probeKvm } from "./availability.ts";

/** The variable that marks a run of the KVM test suite, and its value. */
export const KVM_SUITE_ENV = { name: "PVKIT_KVM_SUITE", value: "1" } as const;

let cached: KvmAvailability | undefined;

/** {@linkcode probeKvm} once per process. */
export function kvmAvailability(): KvmAvailability {
  return cached ??= probeKvm();
}

/** Whether this process runs the KVM test suite (where every KVM test must run). */
export function inKvmSuite(): boolean {
  try {
    return Deno.env.get(KVM_SUITE_ENV.name) === KVM_SUITE_ENV.value;
  } catch {
    return false;
  }
}

/**
 * Registers a test that needs a usable `/dev/kvm` (see the module doc for when it is ignored).
 * `options` are the other fields of `Deno.test`'s definition.
 *
 * @example
 * ```ts ignore
 * import { kvmTest } from "@pvkit/kvm/testing";
 * import { KvmSystem } from "@pvkit/kvm";
 * kvmTest("KVM API version is 12", () => {
 *   using sys = KvmSystem.open();
 *   if (sys.kvmGetApiVersion() !== 12) throw new Error("unexpected API version");
 * });
 * ```
 */
export function kvmTest(
  name: string,
  fn: () => void | Promise<void>,
  options: Omit<Deno.TestDefinition, "name" | "fn" | "ignore"> = {},
): void {
  const kvm = kvmAvailability();
  if (kvm.usable) {
    Deno.test({ ...options, name, fn });
  } else if (inKvmSuite()) {
    Deno.test({
      ...options,
      name,
      fn() {
        throw new Error(`the KVM suite needs a usable /dev/kvm: ${kvm.reason}`);
      },
    });
  } else {
    Deno.test({
      ...options,
      name: `${name} (skipped: /dev/kvm unusable: ${kvm.reason})`,
      ignore: true,
      fn,
    });
  }
}
