import { assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import { Errno } from "./errno.ts";
import { KvmError } from "./errors.ts";
import {
  HostMapping,
  libcClose,
  libcGetpid,
  libcGettid,
  libcIoctl,
  libcOpen,
  libcPread,
  O_CLOEXEC,
  O_RDWR,
} from "./libc.ts";
import { ffiTest } from "./_test_utils.ts";

ffiTest("libc wrappers return -errno read on the calling thread", () => {
  assertEquals(libcOpen("/nonexistent/pvkit", O_RDWR | O_CLOEXEC), -Errno.ENOENT);
  assertEquals(libcClose(-1), -Errno.EBADF);
  assertEquals(libcOpen("/dev/null\0x", O_RDWR), -Errno.EINVAL);
  const fd = libcOpen("/dev/null", O_RDWR | O_CLOEXEC);
  try {
    // /dev/null is not a KVM device: KVM_GET_API_VERSION fails with ENOTTY.
    assertEquals(libcIoctl(fd, 0xae00), -Errno.ENOTTY);
  } finally {
    assertEquals(libcClose(fd), 0);
  }
});

ffiTest("libcPread reads at an offset", () => {
  const fd = libcOpen("/proc/self/cmdline", O_CLOEXEC);
  try {
    const head = new Uint8Array(4);
    assertEquals(libcPread(fd, head, 0), 4);
    const tail = new Uint8Array(3);
    assertEquals(libcPread(fd, tail, 1), 3);
    assertEquals([...tail], [...head.subarray(1)]);
  } finally {
    libcClose(fd);
  }
});

ffiTest("getpid matches Deno.pid and gettid is a thread id", () => {
  assertEquals(libcGetpid(), Deno.pid);
  assertEquals(libcGettid() > 0, true);
});

ffiTest("a Worker gets its own thread and reads its own errno", async () => {
  const worker = new Worker(new URL("./_errno_worker.ts", import.meta.url), { type: "module" });
  try {
    const reply = await new Promise<{ tid: number; open: number }>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    });
    assertNotEquals(reply.tid, libcGettid());
    assertEquals(reply.open, -Errno.ENOENT);
  } finally {
    worker.terminate();
  }
});

ffiTest("HostMapping maps zeroed, page-aligned memory and detaches its view on unmap", () => {
  const m = HostMapping.anonymous(3 * 4096, { noReserve: true }, "test RAM");
  assertEquals(m.mapped, true);
  assertEquals(m.length, 3 * 4096);
  assertEquals(m.address % 4096n, 0n);
  const bytes = new Uint8Array(m.buffer);
  assertEquals(bytes.byteLength, 3 * 4096);
  assertEquals(bytes.every((b) => b === 0), true);
  bytes[4096] = 0xf4;
  assertEquals(new Uint8Array(m.buffer)[4096], 0xf4);
  m.unmap();
  assertEquals(m.mapped, false);
  // The old view is detached, not dangling: reads give undefined instead of a segfault.
  assertEquals(bytes.byteLength, 0);
  assertEquals(bytes[4096], undefined);
  assertEquals(m.buffer.byteLength, 0);
  m.unmap(); // idempotent
  {
    using scoped = HostMapping.anonymous(4096);
    new Uint8Array(scoped.buffer)[0] = 1;
  }
});

ffiTest("HostMapping reports mmap failures as KvmError", () => {
  assertThrows(() => HostMapping.anonymous(0), KvmError, "mmap(guest RAM) failed: EINVAL (22)");
  // A shared mapping of a bad fd fails in the kernel with EBADF.
  assertThrows(() => HostMapping.shared(-1, 4096, 0, "kvm_run"), KvmError, "EBADF (9)");
});
