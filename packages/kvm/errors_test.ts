import { assertEquals, assertInstanceOf } from "@std/assert";
import { PvkitError } from "@pvkit/machine";
import { Errno, errnoDescription, errnoName } from "./errno.ts";
import { KvmError } from "./errors.ts";

Deno.test("KvmError names the operation and the errno by name and number", () => {
  const e = new KvmError("KVM_GET_SUPPORTED_CPUID", Errno.E2BIG);
  assertInstanceOf(e, PvkitError);
  assertInstanceOf(e, Error);
  assertEquals(e.message, "KVM_GET_SUPPORTED_CPUID failed: E2BIG (7)");
  assertEquals(e.name, "KvmError");
  assertEquals(e.code, "kvm-call-failed");
  assertEquals(e.operation, "KVM_GET_SUPPORTED_CPUID");
  assertEquals(e.errno, 7);
  assertEquals(e.errnoName, "E2BIG");
  assertEquals(e.description, "Argument list too long");
  assertEquals(typeof e.hint, "string");
});

Deno.test("KvmError keeps a caller's hint and prints unknown errnos as E<n>", () => {
  const e = new KvmError("KVM_CREATE_VM", 200, "try again");
  assertEquals(e.message, "KVM_CREATE_VM failed: E200 (200)");
  assertEquals(e.hint, "try again");
  assertEquals(new KvmError("KVM_RUN", Errno.EINVAL).hint, undefined);
});

Deno.test("errno names and descriptions match Linux x86-64", () => {
  const expected: [number, string][] = [
    [1, "EPERM"],
    [2, "ENOENT"],
    [6, "ENXIO"],
    [7, "E2BIG"],
    [12, "ENOMEM"],
    [13, "EACCES"],
    [17, "EEXIST"],
    [22, "EINVAL"],
    [25, "ENOTTY"],
  ];
  for (const [value, name] of expected) assertEquals(errnoName(value), name);
  assertEquals(errnoDescription(Errno.EINVAL), "Invalid argument");
  assertEquals(errnoDescription(9999), "Unknown error 9999");
});
