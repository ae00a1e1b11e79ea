/**
 * `@pvkit/kvm-migration-control`: kvm-migration-control: MSR 0x4b564d08, where the guest tells the VMM whether live migration is allowed (bit 0 = KVM_MIGRATION_READY).
 *
 * Not a built-in plugin: KVM never reports bit 17 nor emulates the MSR, and QEMU has no flag
 * for it, so a VMM that traps the MSR adds it with `compose({ plugins: [kvmMigrationControl] })`.
 *
 * @example
 * ```ts
 * import { kvmMigrationControl } from "@pvkit/kvm-migration-control";
 * console.log(kvmMigrationControl.manifest.cpuid.bits);
 * ```
 *
 * @module
 */

import { definePluginFromJson, type PvPlugin } from "@pvkit/machine";
import manifest from "./manifest.json" with { type: "json" };
import {
  createKvmMigrationControlHooks,
  MIGRATION_CONTROL_INITIAL,
  MIGRATION_CONTROL_RESERVED_MASK,
} from "./host.ts";

/**
 * The kvm-migration-control plugin: its manifest (CPUID bit 17 of 0x40000001 EAX, defaults,
 * rules) and the VMM's MSR 0x4b564d08.
 *
 * @example
 * ```ts
 * import { kvmMigrationControl } from "@pvkit/kvm-migration-control";
 * console.log(kvmMigrationControl.manifest.name); // "kvm-migration-control"
 * ```
 */
export const kvmMigrationControl: PvPlugin = definePluginFromJson(
  manifest,
  createKvmMigrationControlHooks,
  "@pvkit/kvm-migration-control/manifest.json",
);

export {
  createKvmMigrationControlHooks,
  MIGRATION_CONTROL_INITIAL,
  MIGRATION_CONTROL_RESERVED_MASK,
};
