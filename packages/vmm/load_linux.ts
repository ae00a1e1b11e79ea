/**
 * Loads a Linux bzImage, its initrd and command line into guest memory for a 64-bit entry, with
 * the zero page, MP table and boot CPU tables, and returns the boot CPU's entry state and where
 * everything went. Pure: it writes only through the `GuestMemory` it is given.
 *
 * @module
 */

import type { GuestMemory } from "@pvkit/machine";
import { PvkitError } from "@pvkit/machine";
import type { GuestChunk } from "@pvkit/x86";
import { alignUp, formatSize, hex, mibCeil } from "./_format.ts";
import { buildBootParams, encodeCmdline } from "./boot_params.ts";
import {
  CMDLINE_GPA,
  CMDLINE_MAX_BYTES,
  type GuestRamRegion,
  guestRamRegions,
  KERNEL_64BIT_ENTRY_OFFSET,
  KERNEL_LOAD_GPA,
  lowRamEnd,
  MMIO_HOLE_START,
  ZERO_PAGE_GPA,
} from "./boot_layout.ts";
import { type BootCpuState, bootCpuState, bootCpuTables } from "./boot_cpu_state.ts";
import { type BzImage, parseBzImage } from "./bzimage.ts";
import { type E820Entry, e820Map } from "./e820.ts";
import { type InitrdPlacement, placeInitrd } from "./initrd_placement.ts";
import { type KernelFootprint, kernelFootprint } from "./kernel_footprint.ts";
import { buildMpTable } from "./mptable.ts";

/**
 * What {@linkcode loadLinux} boots.
 *
 * @example
 * ```ts
 * import type { LoadLinuxOptions } from "@pvkit/vmm";
 * const opts: LoadLinuxOptions = {
 *   kernel: new Uint8Array(), cmdline: "console=ttyS0", memBytes: 256 << 20, apicIds: [0, 1],
 * };
 * console.log(opts.initrd); // undefined
 * ```
 */
export interface LoadLinuxOptions {
  /** The bzImage's bytes. */
  readonly kernel: Uint8Array;
  /** Its name in errors (default "the kernel"). */
  readonly kernelFile?: string;
  /** The initrd (initramfs) bytes, if any. */
  readonly initrd?: Uint8Array;
  /** Its name in errors (default "initrd"). */
  readonly initrdFile?: string;
  /** The kernel command line. */
  readonly cmdline: string;
  /** Guest RAM in bytes (a multiple of 4 KiB); `memory` must hold its part below 3 GiB. */
  readonly memBytes: number;
  /** The vCPUs' local APIC IDs, boot CPU first (usually `0 .. n-1`). */
  readonly apicIds: readonly number[];
}

/**
 * The result of {@linkcode loadLinux}: the boot CPU's entry state ({@linkcode BootCpuState}:
 * `regs`, `sregs`, `fpu`, and `msrs` for every vCPU), and where everything went (for a boot
 * report). `sregs` is the part a 64-bit entry sets: spread it over KVM's reset state,
 * `vcpu.kvmSetSregs({ ...vcpu.kvmGetSregs(), ...setup.sregs })`.
 *
 * @example
 * ```ts
 * import type { LinuxBootSetup } from "@pvkit/vmm";
 * const entry = (s: LinuxBootSetup) => s.regs.rip;
 * console.log(typeof entry); // "function"
 * ```
 */
export interface LinuxBootSetup extends BootCpuState {
  /** The parsed bzImage (protocol version, flags, sizes). */
  readonly image: BzImage;
  /** The 64-bit entry point (load address + 0x200). */
  readonly entry: bigint;
  /** Where the kernel was loaded and where it will run. */
  readonly kernel: KernelFootprint;
  /** Where the initrd was written, if any. */
  readonly initrd?: InitrdPlacement;
  /** The command line: its GPA, bytes with the NUL, and text. */
  readonly cmdline: { readonly gpa: bigint; readonly length: number; readonly text: string };
  /** GPA of the zero page (RSI). */
  readonly zeroPage: bigint;
  /** Where the MP table went. */
  readonly mpTable: { readonly gpa: bigint; readonly size: number };
  /** The e820 map the kernel was given. */
  readonly e820: readonly E820Entry[];
  /** The guest's RAM regions (one memory slot each). */
  readonly ramRegions: readonly GuestRamRegion[];
}

/**
 * The least guest RAM (bytes, whole MiB) that boots `image` with an initrd of `initrdSize`
 * bytes: everything the kernel occupies while it boots ({@linkcode kernelFootprint}), then the
 * initrd above it.
 *
 * @example
 * ```ts
 * import { minimumGuestMemory } from "@pvkit/vmm";
 * const image = {
 *   payload: new Uint8Array(8 << 20),
 *   relocatable: true,
 *   prefAddress: 0x1000000n,
 *   kernelAlignment: 0x200000,
 *   initSize: 0x3f98000,
 * };
 * console.log(minimumGuestMemory(image) >> 20, minimumGuestMemory(image, 20 << 20) >> 20);
 * // 80 100
 * ```
 */
export function minimumGuestMemory(
  image: Parameters<typeof kernelFootprint>[0],
  initrdSize = 0,
): number {
  const end = alignUp(kernelFootprint(image).end, 4096n) + alignUp(BigInt(initrdSize), 4096n);
  return mibCeil(end) * 2 ** 20;
}

/**
 * Writes a Linux boot into `memory` (guest RAM from GPA 0, at least the RAM below 3 GiB): the
 * protected-mode kernel at 0x100000, the command line at 0x20000, the zero page at 0x7000, the
 * initrd at the top of low RAM, the MP table at 0x9FC00, the GDT, IDT and identity page
 * tables. Returns the entry state and the layout. Apply the state after KVM_SET_CPUID2:
 * `kvmSetMsrs(setup.msrs)` on every vCPU; on the boot CPU `kvmSetRegs(setup.regs)`,
 * `kvmSetFpu(setup.fpu)` and `kvmSetSregs({ ...vcpu.kvmGetSregs(), ...setup.sregs })`.
 *
 * Throws {@linkcode PvkitError}: the bzImage errors of {@linkcode parseBzImage};
 * `vmm-memory-too-small` (saying the minimum) when the kernel, or the kernel and initrd, do
 * not fit in `memBytes`; `vmm-initrd-too-big`, `vmm-initrd-empty`; `vmm-cmdline-too-long`,
 * `vmm-cmdline-nul`; `vmm-too-many-cpus`, `vmm-bad-apic-id`; `vmm-bad-guest-memory` when
 * `memory` is smaller than the low RAM of `memBytes`.
 *
 * @example
 * ```ts
 * import { loadLinux } from "@pvkit/vmm";
 * import { ArrayGuestMemory } from "@pvkit/machine";
 * const memory = new ArrayGuestMemory(64 << 20);
 * try {
 *   loadLinux(memory, { kernel: new Uint8Array(0), cmdline: "", memBytes: 64 << 20, apicIds: [0] });
 * } catch (e) {
 *   console.log((e as Error).message); // "the kernel is empty (0 bytes)"
 * }
 * ```
 */
export function loadLinux(memory: GuestMemory, options: LoadLinuxOptions): LinuxBootSetup {
  const plan = planLinuxBoot(options);
  const lowEnd = lowRamEnd(options.memBytes);
  if (!memory.contains(0n, Number(lowEnd))) {
    throw new PvkitError(
      "vmm-bad-guest-memory",
      `guest memory of ${formatSize(memory.size)} does not hold the ${
        formatSize(lowEnd)
      } of RAM below 3 GiB that ${formatSize(options.memBytes)} of guest RAM has`,
      "map the low RAM region of guestRamRegions(memBytes) as the memory to load into",
    );
  }
  for (const c of plan.chunks) memory.writeBytes(c.gpa, c.bytes);
  return plan.setup;
}

/** What {@linkcode planLinuxBoot} decided: the set-up, and the bytes to write where. */
export interface LinuxBootPlan {
  /** The boot CPU's entry state and where everything goes. */
  readonly setup: LinuxBootSetup;
  /** The bytes to write into guest RAM, by GPA. */
  readonly chunks: readonly GuestChunk[];
}

/**
 * Everything {@linkcode loadLinux} does but the writing: parses and checks the kernel, the
 * memory size, the command line and the initrd, and lays them out. Every error a user can
 * cause comes from here, so a VMM can call it before it creates a VM.
 *
 * @throws {PvkitError} for a bad kernel, too little memory, a too-long command line, an
 * initrd that does not fit
 * @example
 * ```ts
 * import { planLinuxBoot } from "@pvkit/vmm";
 * try {
 *   planLinuxBoot({ kernel: new Uint8Array(100), cmdline: "", memBytes: 64 << 20, apicIds: [0] });
 * } catch (e) {
 *   console.log((e as Error).message); // the kernel is not a bzImage: ...
 * }
 * ```
 */
export function planLinuxBoot(options: LoadLinuxOptions): LinuxBootPlan {
  const image = parseBzImage(options.kernel, options.kernelFile);
  const { memBytes } = options;
  const ramRegions = guestRamRegions(memBytes);
  const lowEnd = lowRamEnd(memBytes);
  const kernel = kernelFootprint(image, KERNEL_LOAD_GPA);
  checkKernelFits(image, kernel, memBytes, lowEnd, options.initrd?.byteLength ?? 0);

  const cmdlineBytes = encodeCmdline(
    options.cmdline,
    Math.min(image.cmdlineSize, CMDLINE_MAX_BYTES - 1),
  );
  const initrd = options.initrd === undefined
    ? undefined
    : placeInitrd(image, options.initrd.byteLength, memBytes, options.initrdFile);
  const mpTable = buildMpTable(options.apicIds);
  const e820 = e820Map(memBytes);
  const zeroPage = buildBootParams({
    image,
    cmdlineGpa: CMDLINE_GPA,
    cmdlineLength: cmdlineBytes.length,
    initrd,
    e820,
    kernelGpa: KERNEL_LOAD_GPA,
  });

  const chunks: GuestChunk[] = [
    ...bootCpuTables(memBytes),
    { gpa: ZERO_PAGE_GPA, bytes: zeroPage },
    { gpa: CMDLINE_GPA, bytes: cmdlineBytes },
    mpTable,
    { gpa: KERNEL_LOAD_GPA, bytes: image.payload },
  ];
  if (initrd && options.initrd) chunks.push({ gpa: initrd.gpa, bytes: options.initrd });

  const entry = KERNEL_LOAD_GPA + KERNEL_64BIT_ENTRY_OFFSET;
  return {
    chunks,
    setup: {
      ...bootCpuState(entry, ZERO_PAGE_GPA),
      image,
      entry,
      kernel,
      initrd,
      cmdline: { gpa: CMDLINE_GPA, length: cmdlineBytes.length, text: options.cmdline },
      zeroPage: ZERO_PAGE_GPA,
      mpTable: { gpa: mpTable.gpa, size: mpTable.bytes.length },
      e820,
      ramRegions,
    },
  };
}

function checkKernelFits(
  image: BzImage,
  kernel: KernelFootprint,
  memBytes: number,
  lowEnd: bigint,
  initrdSize: number,
): void {
  if (kernel.end <= lowEnd) return;
  const why = `${formatSize(image.payload.byteLength)} at ${hex(kernel.loadGpa)}, running at ${
    hex(kernel.runtimeStart)
  } with init_size ${formatSize(image.initSize)}`;
  if (kernel.end > MMIO_HOLE_START) {
    throw new PvkitError(
      "vmm-memory-too-small",
      `${image.file} needs RAM up to ${formatSize(kernel.end)} (${why}), past the 3 GiB where ` +
        `the MMIO hole starts`,
      "boot a kernel with a smaller init_size",
    );
  }
  const minimum = mibCeil(minimumGuestMemory(image, initrdSize));
  const initrd = initrdSize > 0 ? ` with its ${formatSize(initrdSize)} initrd` : "";
  throw new PvkitError(
    "vmm-memory-too-small",
    `${formatSize(memBytes)} of guest RAM is too small: ${image.file} needs at least ${minimum} ` +
      `MiB${initrd} (${why})`,
    `give the guest at least ${minimum} MiB with -m`,
  );
}
