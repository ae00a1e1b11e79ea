import { assertEquals } from "@std/assert";
import { didYouMean, suggest } from "./did_you_mean.ts";

Deno.test("suggestions are close names, nearest first", () => {
  assertEquals(suggest("kvm-pv-ip", ["kvm-pv-ipi", "kvm-pv-eoi", "x2apic"]), [
    "kvm-pv-ipi",
    "kvm-pv-eoi",
  ]);
  assertEquals(suggest("kvm_pv_unhalt", ["kvm-pv-unhalt"]), ["kvm-pv-unhalt"]);
  assertEquals(didYouMean("zzzzzz", ["kvmclock"]), undefined);
});

Deno.test("two swapped letters are one edit", () => {
  assertEquals(suggest("hots", ["host", "max", "base"]), ["host"]);
  assertEquals(didYouMean("descrbe", ["describe", "diff"]), 'did you mean "describe"?');
});
