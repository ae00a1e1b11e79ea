// A Worker for libc_test.ts: reports its OS thread id and an errno read on its own thread.

import { Errno } from "./errno.ts";
import { libcGettid, libcOpen, O_CLOEXEC, O_RDWR } from "./libc.ts";

const self = globalThis as unknown as Worker & { close(): void };
self.postMessage({
  tid: libcGettid(),
  open: libcOpen("/nonexistent/pvkit", O_RDWR | O_CLOEXEC),
  expected: -Errno.ENOENT,
});
self.close();
