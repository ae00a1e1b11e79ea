/**
 * Guest RAM backed by a host `mmap`: the `GuestMemory` of a KVM VM.
 *
 * @module
 */

import { ArrayGuestMemory } from "@pvkit/machine";
import type { HostMapping } from "./libc.ts";
import { factories } from "./_internal.ts";

/**
 * A {@linkcode HostMapping} seen as guest RAM starting at GPA 0: the bounds-checked
 * little-endian accessors of `ArrayGuestMemory` from `@pvkit/machine`, over the mapping's
 * zero-copy buffer, so a write here is what the guest reads.
 *
 * Once the VM is closed the mapping is unmapped and its buffer detached: the accessors then
 * throw `TypeError` (detached buffer) instead of touching freed memory, and
 * {@linkcode MappedGuestMemory.mapped} is false.
 *
 * @example
 * ```ts
 * import { KvmSystem } from "@pvkit/kvm";
 * using sys = KvmSystem.open();
 * using vm = sys.kvmCreateVm();
 * const ram = vm.mapGuestRam(2 * 1024 * 1024); // a MappedGuestMemory
 * ram.writeU32(0x1000n, 0xdeadbeef);
 * console.log(ram.readU32(0x1000n).toString(16), ram.size); // "deadbeef" 2097152
 * ```
 */
export class MappedGuestMemory extends ArrayGuestMemory {
  readonly #mapping: HostMapping;

  static {
    factories.memory = (mapping) => new MappedGuestMemory(mapping);
  }

  private constructor(mapping: HostMapping) {
    super(new Uint8Array(mapping.buffer));
    this.#mapping = mapping;
  }

  /**
   * The host virtual address of GPA 0 (for `kvm_userspace_memory_region.userspace_addr`).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * using vm = sys.kvmCreateVm();
   * console.log(vm.mapGuestRam(4096).hostAddress % 4096n); // 0n
   * ```
   */
  get hostAddress(): bigint {
    return this.#mapping.address;
  }

  /**
   * False once the backing mapping was unmapped (the VM was closed).
   *
   * @example
   * ```ts
   * import { KvmSystem } from "@pvkit/kvm";
   * using sys = KvmSystem.open();
   * const vm = sys.kvmCreateVm();
   * const ram = vm.mapGuestRam(4096);
   * vm.close();
   * console.log(ram.mapped); // false
   * ```
   */
  get mapped(): boolean {
    return this.#mapping.mapped;
  }
}
