/**
 * kvm-asyncpf-int (CPUID 0x40000001 EAX bit 14): interrupt-based 'page ready', without which
 * Linux (5.8 and later) does not use async page faults at all. Shares its example with
 * kvm-asyncpf: see examples/feature_kvm_asyncpf.ts.
 *
 * Run: deno run -A examples/feature_kvm_asyncpf_int.ts
 */

import { main } from "./feature_kvm_asyncpf.ts";

main();
