// Package-internal constructors. KvmVm, KvmVcpu and KvmStatsFd have private constructors (they
// own fds, so only the ioctl that creates the fd may make one); each class registers a factory
// here from a static block, and the creating ioctl method calls it. Not re-exported by mod.ts.

import type { MappedGuestMemory } from "./guest_memory.ts";
import type { HostMapping } from "./libc.ts";
import type { KvmStatsFd } from "./stats.ts";
import type { KvmVcpu } from "./vcpu.ts";
import type { KvmVm } from "./vm.ts";

/** Factories filled in by the classes' static blocks. */
export const factories: {
  vm?: (fd: number, vcpuMmapSize: number) => KvmVm;
  vcpu?: (fd: number, id: number, vcpuMmapSize: number) => KvmVcpu;
  stats?: (fd: number, label: string) => KvmStatsFd;
  memory?: (mapping: HostMapping) => MappedGuestMemory;
  /** Marks a vCPU as inside KVM_RUN on another thread: its ioctls then fail instead of blocking. */
  setVcpuBusy?: (vcpu: KvmVcpu, busy: string | undefined) => void;
} = {};

/** The registered factory, or an error naming the module that was not loaded. */
export function factory<K extends keyof typeof factories>(
  name: K,
): NonNullable<(typeof factories)[K]> {
  const f = factories[name];
  if (!f) throw new Error(`internal: the ${name} module was not loaded`);
  return f as NonNullable<(typeof factories)[K]>;
}
