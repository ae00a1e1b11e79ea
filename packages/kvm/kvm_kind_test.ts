import { assertEquals } from "@std/assert";
import { classifyKvm, type KvmKindFacts } from "./kvm_kind.ts";

const base: KvmKindFacts = {
  usable: true,
  hypercalls: "works",
  pvmModule: false,
  hypervisorFlag: false,
  nestedTcg: false,
};

Deno.test("classifyKvm: the kinds of KVM pvkit tells apart, and which are real", () => {
  const kind = (over: Partial<KvmKindFacts>) => {
    const r = classifyKvm({ ...base, ...over });
    return [r.kind, r.real];
  };
  assertEquals(kind({}), ["hardware", true]);
  assertEquals(kind({ hypervisorFlag: true }), ["nested", true]);
  assertEquals(kind({ hypervisorFlag: true, nestedTcg: true }), ["nested-tcg", true]);
  assertEquals(kind({ hypercalls: "unavailable", pvmModule: true }), ["pvm", false]);
  assertEquals(kind({ hypercalls: "unavailable" }), ["unknown", false]);
  assertEquals(kind({ hypercalls: "unknown" }), ["unknown", false]);
  assertEquals(kind({ usable: false, pvmModule: true }), ["none", false]);
});
