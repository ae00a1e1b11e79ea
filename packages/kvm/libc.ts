/**
 * The libc layer: the package's only `Deno.dlopen` and its only raw pointers.
 *
 * Every wrapper here is synchronous (`nonblocking: false`), so the call runs on the calling
 * JavaScript thread and errno is read on that same thread right after the failing call
 * (`__errno_location()` is thread-local; a nonblocking call would run on a Tokio pool thread and
 * leave errno there). Wrappers return the kernel's convention, the result or `-errno`, so hot
 * loops such as KVM_RUN need no exception per EINTR; {@linkcode KvmFd} turns failures into
 * {@linkcode KvmError}s. Pointers never leave this file: mappings are exposed as an address
 * (a bigint) and a zero-copy `ArrayBuffer`.
 *
 * The library is opened lazily, once per thread (each Worker loads its own copy), so importing
 * this module needs no permission; the first call needs unscoped `--allow-ffi`.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { Errno } from "./errno.ts";
import { FfiUnavailableError, KvmError } from "./errors.ts";

// Linux x86-64 values (spec §4, "Libc constants").
/**
 * `O_RDWR` for {@linkcode libcOpen}.
 *
 * @example
 * ```ts
 * import { O_CLOEXEC, O_RDWR } from "./libc.ts";
 * console.log((O_RDWR | O_CLOEXEC).toString(16)); // "80002"
 * ```
 */
export const O_RDWR = 2;
/**
 * `O_CLOEXEC` for {@linkcode libcOpen}: the fd does not leak into child processes.
 *
 * @example
 * ```ts
 * import { O_CLOEXEC } from "./libc.ts";
 * console.log(O_CLOEXEC); // 524288
 * ```
 */
export const O_CLOEXEC = 0x80000;

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const MAP_ANONYMOUS = 0x20;
const MAP_NORESERVE = 0x4000;
// mmap's MAP_FAILED is (void *)-1: a non-null pointer object, so compare its value.
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32", nonblocking: false },
  close: { parameters: ["i32"], result: "i32", nonblocking: false },
  // ioctl is variadic; declare it once per argument kind (the `name` trick). The third argument
  // is a pointer to a struct ("buffer": the data pointer of a TypedArray) ...
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32", nonblocking: false },
  // ... or an integer passed by value (KVM_CREATE_VCPU, KVM_CHECK_EXTENSION, KVM_SET_TSS_ADDR).
  ioctl_u64: {
    name: "ioctl",
    parameters: ["i32", "u64", "u64"],
    result: "i32",
    nonblocking: false,
  },
  mmap: {
    parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"],
    result: "pointer",
    nonblocking: false,
  },
  munmap: { parameters: ["pointer", "usize"], result: "i32", nonblocking: false },
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize", nonblocking: false },
  __errno_location: { parameters: [], result: "pointer", nonblocking: false },
  getpid: { parameters: [], result: "i32", nonblocking: false },
  sched_yield: { parameters: [], result: "i32", nonblocking: false },
  // glibc >= 2.30; optional so an older libc still loads (the wrappers then report ENOSYS).
  gettid: { parameters: [], result: "i32", nonblocking: false, optional: true },
  tgkill: { parameters: ["i32", "i32", "i32"], result: "i32", nonblocking: false, optional: true },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let loaded: Libc | undefined;

/**
 * Whether this thread may use FFI without a permission prompt: unscoped `--allow-ffi` (zero-copy
 * views of mappings need it unscoped, and a scoped grant resolves `libc.so.6` against the CWD).
 *
 * @example
 * ```ts
 * import { ffiPermitted } from "./libc.ts";
 * console.log(ffiPermitted()); // true under `deno run --allow-ffi`
 * ```
 */
export function ffiPermitted(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

function libc(): Libc {
  if (loaded) return loaded;
  if (!ffiPermitted()) {
    throw new FfiUnavailableError(
      "Deno FFI is not permitted (run with --allow-ffi)",
      "pass --allow-ffi (unscoped) or -A to deno",
    );
  }
  if (Deno.build.os !== "linux") {
    throw new FfiUnavailableError(`KVM needs Linux; this is ${Deno.build.os}`);
  }
  try {
    loaded = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch (e) {
    throw new FfiUnavailableError(
      `could not load libc.so.6 through Deno FFI: ${e instanceof Error ? e.message : String(e)}`,
      "pvkit's KVM backend needs glibc (libc.so.6)",
    );
  }
  return loaded;
}

/**
 * Loads libc now (it is otherwise loaded on first use); throws {@linkcode FfiUnavailableError}.
 *
 * @example
 * ```ts
 * import { loadLibc } from "./libc.ts";
 * loadLibc();
 * ```
 */
export function loadLibc(): void {
  libc();
}

// Must run right after the failing call, before anything else can touch this thread's errno.
function errno(lib: Libc): number {
  const location = lib.__errno_location();
  return location === null ? Errno.EFAULT : new Deno.UnsafePointerView(location).getInt32(0);
}

// Shared by every wrapper returning `int`: -1 means "look at errno".
function intResult(lib: Libc, result: number): number {
  return result === -1 ? -errno(lib) : result;
}

const encoder = new TextEncoder();

/**
 * `open(path, flags, mode)`: the new fd, or `-errno`. Bypasses Deno's fs permissions (the OS
 * still checks access), so opening `/dev/kvm` needs only `--allow-ffi`.
 *
 * @example
 * ```ts
 * import { libcClose, libcOpen, O_CLOEXEC, O_RDWR } from "./libc.ts";
 * const fd = libcOpen("/dev/kvm", O_RDWR | O_CLOEXEC);
 * if (fd >= 0) libcClose(fd);
 * else console.log(`open failed: errno ${-fd}`);
 * ```
 */
export function libcOpen(path: string, flags: number, mode = 0): number {
  if (path.includes("\0")) return -Errno.EINVAL;
  const lib = libc();
  return intResult(lib, lib.open(encoder.encode(path + "\0"), flags, mode));
}

/**
 * `close(fd)`: 0, or `-errno`. Linux releases the fd even when this reports EINTR.
 *
 * @example
 * ```ts
 * import { libcClose } from "./libc.ts";
 * console.log(libcClose(-1)); // -9 (EBADF)
 * ```
 */
export function libcClose(fd: number): number {
  const lib = libc();
  return intResult(lib, lib.close(fd));
}

/**
 * `ioctl(fd, request, arg)` with an integer argument passed by value (0 when the ioctl takes
 * none): the ioctl's result, or `-errno`.
 *
 * @example
 * ```ts
 * import { libcClose, libcIoctl, libcOpen, O_CLOEXEC, O_RDWR } from "./libc.ts";
 * const fd = libcOpen("/dev/kvm", O_RDWR | O_CLOEXEC);
 * console.log(libcIoctl(fd, 0xae00)); // 12 (KVM_GET_API_VERSION)
 * libcClose(fd);
 * ```
 */
export function libcIoctl(fd: number, request: number, arg: number | bigint = 0): number {
  const lib = libc();
  return intResult(lib, lib.ioctl_u64(fd, BigInt(request), BigInt(arg)));
}

/**
 * `ioctl(fd, request, &struct)` where the struct is `buf`'s bytes, which the kernel may read and
 * write in place: the ioctl's result, or `-errno`.
 *
 * @example
 * ```ts
 * import { libcClose, libcIoctlBuffer, libcOpen, O_CLOEXEC, O_RDWR } from "./libc.ts";
 * const fd = libcOpen("/dev/kvm", O_RDWR | O_CLOEXEC);
 * const list = new Uint32Array(1); // struct kvm_msr_list with nmsrs = 0
 * console.log(libcIoctlBuffer(fd, 0xc004ae02, list)); // -7 (E2BIG), and list[0] = the count
 * libcClose(fd);
 * ```
 */
export function libcIoctlBuffer(fd: number, request: number, buf: BufferSource): number {
  const lib = libc();
  return intResult(lib, lib.ioctl(fd, BigInt(request), buf));
}

/**
 * `pread(fd, buf, buf.byteLength, offset)`: bytes read, or `-errno` (for the binary stats fd).
 *
 * @example
 * ```ts
 * import { libcClose, libcOpen, libcPread, O_CLOEXEC, O_RDWR } from "./libc.ts";
 * const fd = libcOpen("/proc/self/stat", O_CLOEXEC);
 * const buf = new Uint8Array(16);
 * console.log(libcPread(fd, buf, 0) > 0); // true
 * libcClose(fd);
 * ```
 */
export function libcPread(fd: number, buf: Uint8Array, offset: number | bigint): number {
  const lib = libc();
  const n = lib.pread(fd, buf, BigInt(buf.byteLength), BigInt(offset));
  return n === -1n ? -errno(lib) : Number(n);
}

/**
 * `getpid()`: the process id.
 *
 * @example
 * ```ts
 * import { libcGetpid } from "./libc.ts";
 * console.log(libcGetpid() === Deno.pid); // true
 * ```
 */
export function libcGetpid(): number {
  return libc().getpid();
}

/**
 * `sched_yield()`: lets another runnable thread have this CPU (returns at once when none is).
 *
 * @example
 * ```ts
 * import { libcSchedYield } from "./libc.ts";
 * console.log(libcSchedYield()); // 0
 * ```
 */
export function libcSchedYield(): number {
  return libc().sched_yield();
}

/**
 * `gettid()`: the calling OS thread's id (a Worker has its own), or `-ENOSYS` on glibc < 2.30.
 *
 * @example
 * ```ts
 * import { libcGettid } from "./libc.ts";
 * console.log(libcGettid() > 0); // true
 * ```
 */
export function libcGettid(): number {
  const lib = libc();
  return lib.gettid === null ? -Errno.ENOSYS : lib.gettid();
}

/**
 * `tgkill(pid, tid, signal)`: 0, or `-errno`; how the VMM kicks a vCPU thread out of KVM_RUN.
 *
 * @example
 * ```ts
 * import { libcGetpid, libcGettid, libcTgkill } from "./libc.ts";
 * console.log(libcTgkill(libcGetpid(), libcGettid(), 0)); // 0: signal 0 only checks the thread
 * ```
 */
export function libcTgkill(pid: number, tid: number, signal: number): number {
  const lib = libc();
  return lib.tgkill === null ? -Errno.ENOSYS : intResult(lib, lib.tgkill(pid, tid, signal));
}

/**
 * Options for {@linkcode HostMapping.anonymous}.
 *
 * @example
 * ```ts
 * import type { AnonymousMappingOptions } from "./libc.ts";
 * const opts: AnonymousMappingOptions = { noReserve: true };
 * console.log(opts);
 * ```
 */
export interface AnonymousMappingOptions {
  /** `MAP_NORESERVE`: do not reserve swap, so large sparse guest RAM is cheap. */
  noReserve?: boolean;
}

/**
 * A `mmap`ed region of host memory, readable and writable: guest RAM or a vCPU's `kvm_run`.
 *
 * `buffer` is a zero-copy view; `address` is the host virtual address as a bigint (for
 * `kvm_userspace_memory_region.userspace_addr`, or to post to a Worker). {@linkcode unmap}
 * detaches `buffer` before unmapping, so a stale view reads as empty instead of faulting.
 *
 * @example
 * ```ts
 * import { HostMapping } from "./libc.ts";
 * using ram = HostMapping.anonymous(2 * 1024 * 1024);
 * new Uint8Array(ram.buffer)[0] = 0xf4; // hlt
 * console.log(ram.address % 4096n); // 0n: mmap returns page-aligned memory
 * ```
 */
export class HostMapping implements Disposable {
  /** Length in bytes. */
  readonly length: number;
  /** What the mapping is for, used in error messages (e.g. `kvm_run`). */
  readonly label: string;
  #pointer: Deno.PointerObject | null;
  #buffer: ArrayBuffer;
  readonly #address: bigint;

  private constructor(pointer: Deno.PointerObject, length: number, label: string) {
    this.#pointer = pointer;
    this.#address = Deno.UnsafePointer.value(pointer);
    this.length = length;
    this.label = label;
    this.#buffer = Deno.UnsafePointerView.getArrayBuffer(pointer, length);
  }

  /**
   * `mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, offset)`: maps a file, e.g. a
   * vCPU fd's `kvm_run` (length from KVM_GET_VCPU_MMAP_SIZE). Throws {@linkcode KvmError}.
   *
   * @example
   * ```ts
   * import { HostMapping, libcClose, libcIoctl, libcOpen, O_CLOEXEC, O_RDWR } from "./libc.ts";
   * const kvm = libcOpen("/dev/kvm", O_RDWR | O_CLOEXEC);
   * const vm = libcIoctl(kvm, 0xae01); // KVM_CREATE_VM
   * const vcpu = libcIoctl(vm, 0xae41, 0); // KVM_CREATE_VCPU
   * using run = HostMapping.shared(vcpu, libcIoctl(kvm, 0xae04), 0, "kvm_run");
   * console.log(new DataView(run.buffer).getUint32(8, true)); // exit_reason: 0 before KVM_RUN
   * [vcpu, vm, kvm].forEach(libcClose); // the mapping outlives the fd until unmapped
   * ```
   */
  static shared(fd: number, length: number, offset = 0, label = "shared mapping"): HostMapping {
    return HostMapping.#map(length, MAP_SHARED, fd, offset, label);
  }

  /**
   * `mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`: zeroed memory,
   * e.g. guest RAM. Throws {@linkcode KvmError}.
   *
   * @example
   * ```ts
   * import { HostMapping } from "./libc.ts";
   * using ram = HostMapping.anonymous(1 << 30, { noReserve: true });
   * console.log(ram.length); // 1073741824
   * ```
   */
  static anonymous(
    length: number,
    options: AnonymousMappingOptions = {},
    label = "guest RAM",
  ): HostMapping {
    const flags = MAP_PRIVATE | MAP_ANONYMOUS | (options.noReserve ? MAP_NORESERVE : 0);
    return HostMapping.#map(length, flags, -1, 0, label);
  }

  static #map(
    length: number,
    flags: number,
    fd: number,
    offset: number,
    label: string,
  ): HostMapping {
    const operation = `mmap(${label})`;
    if (!Number.isSafeInteger(length) || length <= 0) {
      throw new KvmError(operation, Errno.EINVAL, `length ${length} must be a positive integer`);
    }
    const lib = libc();
    const p = lib.mmap(null, BigInt(length), PROT_READ | PROT_WRITE, flags, fd, BigInt(offset));
    if (p === null || Deno.UnsafePointer.value(p) === MAP_FAILED) {
      throw new KvmError(operation, errno(lib));
    }
    return new HostMapping(p, length, label);
  }

  /** The host virtual address of the first byte. */
  get address(): bigint {
    return this.#address;
  }

  /** A zero-copy view of the mapping; detached (length 0) once unmapped. */
  get buffer(): ArrayBuffer {
    return this.#buffer;
  }

  /** True until {@linkcode unmap}. */
  get mapped(): boolean {
    return this.#pointer !== null;
  }

  /** `munmap`s the region; idempotent. Views made from `buffer` read as empty afterwards. */
  unmap(): void {
    const p = this.#pointer;
    if (p === null) return;
    this.#pointer = null;
    // Detach first: a live view of unmapped memory would segfault on access. The backing
    // store's deleter is a no-op (Deno's getArrayBuffer), so this frees nothing.
    this.#buffer = this.#buffer.transfer(0);
    const lib = libc();
    if (lib.munmap(p, BigInt(this.length)) === -1) {
      throw new KvmError(`munmap(${this.label})`, errno(lib));
    }
  }

  /** Same as {@linkcode unmap}, for `using`. */
  [Symbol.dispose](): void {
    this.unmap();
  }
}

// A second symbol table over the same libc.so.6, for the exit benchmark: the hot loop needs `ioctl` declared with 32-bit integer
// arguments (V8's fast FFI path, no BigInt per call), and the watchdog needs POSIX timers.
// `ioctl(unsigned int fd, unsigned int cmd, unsigned long arg)`: for KVM_RUN, cmd fits in 32
// bits and the kernel ignores arg.
const FAST_SYMBOLS = {
  ioctl: { parameters: ["i32", "u32", "u32"], result: "i32", nonblocking: false },
  // The same ioctl with a struct argument (a typed array; no BigInt per call).
  ioctlBuffer: { name: "ioctl", parameters: ["i32", "u32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer", nonblocking: false },
  gettid: { parameters: [], result: "i32", nonblocking: false },
  timer_create: { parameters: ["i32", "buffer", "buffer"], result: "i32", nonblocking: false },
  timer_settime: {
    parameters: ["usize", "i32", "buffer", "pointer"],
    result: "i32",
    nonblocking: false,
  },
  timer_delete: { parameters: ["usize"], result: "i32", nonblocking: false },
} as const;

/** The fast symbols. */
export type FastLibc = Deno.DynamicLibrary<typeof FAST_SYMBOLS>["symbols"];
let fastLibc: FastLibc | undefined;

/** The fast symbols (loaded once). */
export function fast(): FastLibc {
  if (fastLibc) return fastLibc;
  if (!ffiPermitted()) {
    throw new PvkitError(
      "kvm-ffi-unavailable",
      "Deno FFI is not permitted (run with --allow-ffi)",
      "pass --allow-ffi (unscoped) or -A to deno",
    );
  }
  fastLibc = Deno.dlopen("libc.so.6", FAST_SYMBOLS).symbols;
  return fastLibc;
}

/** errno of the calling thread, through the fast symbols. */
export function fastErrno(lib: FastLibc): number {
  const p = lib.__errno_location();
  return p === null ? Errno.EFAULT : new Deno.UnsafePointerView(p).getInt32(0);
}
