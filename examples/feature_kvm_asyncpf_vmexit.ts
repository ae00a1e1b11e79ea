/**
 * kvm-asyncpf-vmexit (CPUID 0x40000001 EAX bit 10): lets a nested hypervisor's guest (L2) get
 * async page faults as #PF vmexits to L1; the guest sets DELIVERY_AS_PF_VMEXIT (bit 2) in
 * MSR 0x4b564d02. Shares its example with kvm-asyncpf: see examples/feature_kvm_asyncpf.ts.
 *
 * Run: deno run -A examples/feature_kvm_asyncpf_vmexit.ts
 */

import { main } from "./feature_kvm_asyncpf.ts";

main();
