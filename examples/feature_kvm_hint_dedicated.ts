/**
 * kvm-hint-dedicated (CPUID 0x40000001 EDX bit 0): shares its example with kvm-poll-control,
 * whose only user (cpuidle-haltpoll) loads only with this hint. See
 * examples/feature_kvm_poll_control.ts.
 *
 * Run: deno run -A examples/feature_kvm_hint_dedicated.ts
 */

import { main } from "./feature_kvm_poll_control.ts";

main();
