/**
 * {@linkcode bootLinux}: boots a Linux bzImage on pvkit's VMM and returns what happened. The
 * main thread composes the machine, sets the VM up (memory, in-kernel irqchip and PIT, CPUID,
 * the boot CPU's 64-bit entry state, the MP table), starts one Worker per vCPU
 * (`vcpu_worker.ts`: KVM_RUN and the exits on that thread, as QEMU's and Firecracker's vCPU
 * threads do), then follows the console until the guest resets, triple-faults, hangs or the
 * time runs out, and stops every vCPU thread with a kick.
 *
 * @module
 */

import {
  type CpuidEntry,
  kickVcpuThread,
  KVM_CAP,
  KVM_MSR_EXIT_REASON_FILTER,
  KVM_MSR_FILTER_DEFAULT_ALLOW,
  type KvmStatsFd,
  KvmSystem,
  type KvmVcpu,
  type KvmVm,
  probeKvm,
} from "@pvkit/kvm";
import { PvkitError } from "@pvkit/machine";
import { bootCpuid } from "./boot_cpuid.ts";
import { parseBzImage } from "./bzimage.ts";
import { BOOT_MARK } from "./boot_init.ts";
import { KVM_TSS_GPA, MMIO_HOLE_END, MMIO_HOLE_START } from "./boot_layout.ts";
import { type BootMachineOptions, composeBootMachine } from "./boot_machine.ts";
import { BootShared, STOP_REASON, VCPU_STATE } from "./boot_shared.ts";
import { type BootStop, describeStop } from "./boot_stop.ts";
import { createLegacyDevices } from "./legacy_devices.ts";
import { type LinuxBootPlan, planLinuxBoot } from "./load_linux.ts";
import { watchedMsrFilterRanges } from "./pv_msr_watch.ts";
import { type BootObservations, readBootObservations } from "./boot_observations.ts";
import type { VcpuWorkerInit, VcpuWorkerMessage } from "./_vcpu_worker_protocol.ts";
import type { ComposedMachine } from "@pvkit/machine";

/**
 * The kernel command line `pvkit boot` uses when none is given: the console on the UART, reboot
 * through the keyboard controller (the VM's clean end), no PCI, ACPI or modules, and the i8042
 * probing Firecracker's and kvmtool's lines skip (Firecracker `docs/getting-started.md`).
 *
 * @example
 * ```ts
 * import { DEFAULT_BOOT_CMDLINE } from "@pvkit/vmm";
 * console.log(DEFAULT_BOOT_CMDLINE.startsWith("console=ttyS0")); // true
 * ```
 */
export const DEFAULT_BOOT_CMDLINE: string =
  "console=ttyS0 reboot=k panic=1 pci=off acpi=off nomodule " +
  "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";

/** What {@linkcode bootLinux} boots and how. */
export interface LinuxBootOptions extends BootMachineOptions {
  /** The bzImage: a path or its bytes. */
  readonly kernel: string | Uint8Array;
  /** The initramfs: a path or its bytes (optional). */
  readonly initrd?: string | Uint8Array;
  /** The kernel command line (QEMU's `-append`; default {@linkcode DEFAULT_BOOT_CMDLINE}). */
  readonly append?: string;
  /** Guest RAM in bytes (QEMU's `-m`; default 512 MiB). */
  readonly memoryBytes?: number;
  /** Stop the guest after this long (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Stop the guest when its console has been silent this long (default: no limit). */
  readonly idleTimeoutMs?: number;
  /** Gets the guest's console output as it comes (default: discarded). */
  readonly console?: (bytes: Uint8Array) => void;
  /** Stops the guest when aborted. */
  readonly signal?: AbortSignal;
  /** Told, once everything is checked, what boots (a line for people). */
  readonly progress?: (message: string) => void;
}

/** What {@linkcode bootLinux} returns. */
export interface LinuxBootResult {
  /** How the guest ended. */
  readonly stop: BootStop;
  /** The whole console output. */
  readonly console: string;
  /** The composed machine. */
  readonly machine: ComposedMachine;
  /** The kernel command line used. */
  readonly cmdline: string;
  /** What the VMM and KVM saw: PV MSR writes, hypercalls, exits, per vCPU. */
  readonly observations: BootObservations;
  /** vCPU 0's CPUID, as given to KVM_SET_CPUID2. */
  readonly cpuid: readonly CpuidEntry[];
  /**
   * Milliseconds from the first KVM_RUN until pvkit's `/init` printed its first line
   * (`pvkit-boot: init`, see `boot_init.ts`), or undefined if it never did.
   */
  readonly toInitMs: number | undefined;
  /** Milliseconds from the first KVM_RUN to the stop. */
  readonly runMs: number;
  /** Milliseconds of set-up before the first KVM_RUN. */
  readonly setupMs: number;
  /**
   * True when a vCPU thread could not be stopped (stuck inside KVM_RUN): the process must end
   * with `Deno.exit()` (its Worker keeps it alive).
   */
  readonly stuck: boolean;
}

const DEFAULT_MEMORY = 512 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 2_000;
// LAPIC LVT0 and LVT1 (Intel SDM vol. 3 "Local Vector Table"): delivery mode bits 10:8.
const APIC_LVT0 = 0x350;
const APIC_LVT1 = 0x360;
const DELIVERY_EXTINT = 7;
const DELIVERY_NMI = 4;

function kernelName(source: string | Uint8Array): string {
  return typeof source === "string" ? source : "the kernel";
}

function readInput(what: string, source: string | Uint8Array, hint: string): Uint8Array {
  if (typeof source !== "string") return source;
  try {
    const info = Deno.statSync(source);
    if (!info.isFile) {
      throw new PvkitError("boot-bad-file", `${what} ${source} is not a regular file`, hint);
    }
    return Deno.readFileSync(source);
  } catch (e) {
    if (e instanceof PvkitError) throw e;
    if (e instanceof Deno.errors.NotFound) {
      throw new PvkitError("boot-bad-file", `${what} ${source}: no such file`, hint);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new PvkitError("boot-bad-file", `${what} ${source}: permission denied`, hint);
    }
    throw e;
  }
}

/**
 * Boots a Linux kernel on pvkit's VMM (needs a usable `/dev/kvm`) and resolves when the guest
 * ends. The guest's own reboot (`reboot -f` with `reboot=k`) is the clean end; a triple fault,
 * a fatal exit, a hang or the time limit are reported in `stop`.
 *
 * @throws {PvkitError} for a bad kernel or initrd file, a machine pvkit cannot boot, or no KVM
 * @example
 * ```ts ignore
 * import { bootLinux, provisionLinuxGuest } from "@pvkit/vmm";
 * const guest = await provisionLinuxGuest();
 * const r = await bootLinux({ kernel: guest.kernel, initrd: guest.initrd, smp: 2 });
 * console.log(r.stop.kind, r.stop.clean);
 * ```
 */
export async function bootLinux(options: LinuxBootOptions): Promise<LinuxBootResult> {
  const t0 = performance.now();
  const kernel = readInput(
    "kernel",
    options.kernel,
    "pass a bzImage with -kernel, e.g. /boot/vmlinuz-<release>",
  );
  const initrd = options.initrd === undefined
    ? undefined
    : readInput("initrd", options.initrd, "pass an initramfs (a cpio archive) with -initrd");
  // Everything a user can get wrong is checked before KVM is touched, so the messages are the
  // same on any machine: the kernel file, the machine, the memory size. Without a usable KVM
  // the machine is checked against pvkit's default host profile, then the run is refused.
  parseBzImage(kernel, kernelName(options.kernel));
  const kvm = probeKvm();
  const { composed, apicIds, notes } = composeBootMachine({
    ...options,
    ...(kvm.usable ? {} : { host: options.host ?? "default" }),
  });
  const memBytes = options.memoryBytes ?? DEFAULT_MEMORY;
  const cmdline = options.append ?? DEFAULT_BOOT_CMDLINE;
  const plan = planLinuxBoot({
    kernel,
    kernelFile: kernelName(options.kernel),
    ...(initrd ? { initrd } : {}),
    ...(typeof options.initrd === "string" ? { initrdFile: options.initrd } : {}),
    cmdline,
    memBytes,
    apicIds: [...apicIds],
  });
  if (!kvm.usable) {
    throw new PvkitError(
      "boot-no-kvm",
      `pvkit boot needs a usable /dev/kvm: ${kvm.reason}`,
      "run it inside pvkit nested: deno task pvkit nested -- deno task pvkit boot ...",
    );
  }
  options.progress?.(
    `${kernelName(options.kernel)}${
      typeof options.initrd === "string" ? ` with ${options.initrd}` : ""
    }: ` +
      `-cpu ${composed.model}, ${apicIds.length} vCPU${apicIds.length === 1 ? "" : "s"}, ${
        memBytes >> 20
      } MiB`,
  );
  for (const note of notes) options.progress?.(`note: ${note}`);
  using sys = KvmSystem.open();
  const vm = sys.kvmCreateVm();
  let stuck = false;
  try {
    return await runVm(sys, vm, options, {
      plan,
      composed,
      apicIds,
      memBytes,
      cmdline,
      t0,
    }, (s) => stuck = s);
  } finally {
    // A thread stuck inside KVM_RUN holds its vCPU: closing the fd would not end the ioctl,
    // and unmapping guest RAM under it is unsafe. Such a VM is left to the process's exit.
    if (!stuck) vm.close();
  }
}

interface BootInputs {
  readonly plan: LinuxBootPlan;
  readonly composed: ComposedMachine;
  readonly apicIds: readonly number[];
  readonly memBytes: number;
  readonly cmdline: string;
  readonly t0: number;
}

async function runVm(
  sys: KvmSystem,
  vm: KvmVm,
  options: LinuxBootOptions,
  input: BootInputs,
  setStuck: (stuck: boolean) => void,
): Promise<LinuxBootResult> {
  const { plan, composed, apicIds, memBytes, cmdline, t0 } = input;
  const setup = plan.setup;
  vm.kvmSetTssAddr(KVM_TSS_GPA);
  vm.kvmCreateIrqchip();
  vm.kvmCreatePit2();
  const low = Math.min(memBytes, Number(MMIO_HOLE_START));
  const memory = vm.mapGuestRam(low, { noReserve: true });
  if (memBytes > low) {
    vm.mapGuestRam(memBytes - low, { slot: 1, guestPhysAddr: MMIO_HOLE_END, noReserve: true });
  }
  // Guest RAM is fresh (zeroed) memory: only the kernel, initrd and tables are written.
  for (const c of plan.chunks) memory.writeBytes(c.gpa, c.bytes);
  vm.kvmEnableCap(KVM_CAP.KVM_CAP_X86_USER_SPACE_MSR, [KVM_MSR_EXIT_REASON_FILTER]);
  vm.kvmX86SetMsrFilter({ flags: KVM_MSR_FILTER_DEFAULT_ALLOW, ranges: watchedMsrFilterRanges() });

  const supported = sys.kvmGetSupportedCpuid();
  const cpuid0 = bootCpuid(supported, composed, 0);
  const vcpus: KvmVcpu[] = apicIds.map((apicId, i) => {
    const vcpu = vm.kvmCreateVcpu(apicId);
    if (composed.machine.pvEnforceCpuid) {
      vcpu.kvmEnableCap(KVM_CAP.KVM_CAP_ENFORCE_PV_FEATURE_CPUID, [1n]);
    }
    // CPUID before MSRs and registers: MSR validity depends on it (KVM_SET_CPUID2 in api.rst).
    vcpu.kvmSetCpuid2(i === 0 ? cpuid0 : bootCpuid(supported, composed, i));
    vcpu.kvmSetMsrs(setup.msrs);
    if (i === 0) {
      // The other vCPUs wait for INIT/SIPI in the in-kernel LAPIC; Linux starts them.
      vcpu.kvmSetRegs(setup.regs);
      vcpu.kvmSetSregs({ ...vcpu.kvmGetSregs(), ...setup.sregs });
      vcpu.kvmSetFpu(setup.fpu);
    }
    return vcpu;
  });
  // LINT0 ExtINT (the PIC's output) and LINT1 NMI, as a PC wires them (Firecracker
  // arch/x86_64/interrupts.rs); KVM_SET_LAPIC on every vCPU also puts each one in KVM's APIC
  // map from the start (kvm_apic_set_state).
  for (const vcpu of vcpus) {
    const lapic = vcpu.kvmGetLapic();
    const view = new DataView(lapic.buffer);
    const lvt = (off: number, mode: number) =>
      view.setUint32(off, (view.getUint32(off, true) & ~0x700) | (mode << 8), true);
    lvt(APIC_LVT0, DELIVERY_EXTINT);
    lvt(APIC_LVT1, DELIVERY_NMI);
    vcpu.kvmSetLapic(lapic);
  }

  const shared = BootShared.create(vcpus.length);
  const devices = createLegacyDevices(shared.buffers.unclaimedPorts);
  const stats: (KvmStatsFd | undefined)[] = vcpus.map((v) => {
    try {
      return v.kvmGetStatsFd();
    } catch {
      return undefined;
    }
  });
  const workers: Worker[] = [];
  const errors: string[] = [];
  const decoder = new TextDecoder();
  let consoleText = "";
  let started = 0;
  let toInitMs: number | undefined;
  const initMark = `${BOOT_MARK} init `;
  const drain = () => {
    const bytes = devices.console.drain();
    if (bytes.length === 0) return false;
    options.console?.(bytes);
    consoleText += decoder.decode(bytes, { stream: true });
    if (toInitMs === undefined && consoleText.includes(initMark)) {
      toInitMs = performance.now() - started;
    }
    return true;
  };
  const onAbort = () => shared.requestStop(STOP_REASON.interrupted, -1);
  options.signal?.addEventListener("abort", onAbort);
  let stuck = false;
  let runMs = 0;
  const setupMs = performance.now() - t0;
  try {
    for (let i = 0; i < vcpus.length; i++) {
      const worker = new Worker(new URL("./vcpu_worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (e: MessageEvent<VcpuWorkerMessage>) => {
        if (e.data.type === "error") errors.push(`vCPU ${i}: ${e.data.message}`);
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        errors.push(`vCPU ${i}: ${e.message}`);
        shared.requestStop(STOP_REASON.fatalExit, i, -1);
      };
      workers.push(worker);
      const init: VcpuWorkerInit = {
        index: i,
        vcpuFd: vcpus[i].fd,
        vmFd: vm.fd,
        mmapSize: vcpus[i].runSize,
        shared: shared.buffers,
        devices: devices.buffers,
      };
      worker.postMessage(init);
    }
    for (let i = 0; i < vcpus.length; i++) {
      if (!await shared.waitVcpuState(i, VCPU_STATE.running, START_TIMEOUT_MS)) {
        throw new PvkitError(
          "boot-vcpu-start",
          `the thread of vCPU ${i} did not start within ${START_TIMEOUT_MS / 1000} s`,
          errors.join("; ") || "run with --allow-read and --allow-ffi (or -A)",
        );
      }
    }
    started = performance.now();
    shared.start();
    const deadline = started + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let lastOutput = started;
    while (!shared.stopping) {
      await shared.waitForStop(20);
      if (drain()) lastOutput = performance.now();
      const now = performance.now();
      if (now >= deadline) shared.requestStop(STOP_REASON.timeout, -1);
      else if (options.idleTimeoutMs !== undefined && now - lastOutput >= options.idleTimeoutMs) {
        shared.requestStop(STOP_REASON.hang, -1);
      }
    }
    runMs = performance.now() - started;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    shared.requestStop(STOP_REASON.interrupted, -1); // no-op when already stopping
    stuck = await stopVcpuThreads(vcpus, shared);
    setStuck(stuck);
    drain();
    consoleText += decoder.decode();
    for (const w of workers) if (!stuck) w.terminate();
  }
  const observations = readBootObservations(shared, stats);
  for (const s of stats) s?.close();
  return {
    stop: describeStop(shared, {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      idleTimeoutMs: options.idleTimeoutMs,
      errors,
      console: consoleText,
    }),
    console: consoleText,
    machine: composed,
    cpuid: cpuid0,
    toInitMs,
    cmdline,
    observations,
    runMs,
    setupMs,
    stuck,
  };
}

// Kicks every vCPU thread out of KVM_RUN until each has exited its loop; true when one is
// stuck (did not leave KVM_RUN within the grace period).
async function stopVcpuThreads(vcpus: readonly KvmVcpu[], shared: BootShared): Promise<boolean> {
  const deadline = performance.now() + STOP_GRACE_MS;
  for (;;) {
    let running = 0;
    vcpus.forEach((vcpu, i) => {
      const state = shared.vcpuState(i);
      if (state === VCPU_STATE.exited) return;
      running++;
      if (state === VCPU_STATE.running) kickVcpuThread(vcpu, shared.tid(i));
    });
    if (running === 0) return false;
    if (performance.now() >= deadline) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
}
