// Port-I/O exit round trips through VcpuRunner: a guest loop of 1000 `out`s, each answered on
// the main thread. Divide the time per iteration by 1000 for one exit. Ignored without KVM.

import { Assembler, HIMEM_START } from "@pvkit/x86";
import { KvmSystem, probeKvm, setupLongMode, VcpuRunner, type VcpuRunnerOptions } from "./mod.ts";

const EXITS = 1000;
const kvm = probeKvm();

function bench(name: string, options: VcpuRunnerOptions): void {
  Deno.bench({
    name: kvm.usable ? name : `${name} (skipped: /dev/kvm unusable: ${kvm.reason})`,
    ignore: !kvm.usable,
    n: 20,
    warmup: 2,
    async fn(b) {
      using sys = KvmSystem.open();
      using vm = sys.kvmCreateVm();
      vm.kvmCreateIrqchip();
      const vcpu = vm.kvmCreateVcpu(0);
      setupLongMode(vcpu, vm.mapGuestRam(2 << 20), {
        code: new Assembler(HIMEM_START).movImm("ecx", EXITS).label("l").out(0x10, "al")
          .dec("ecx").jnz("l").out(0x11, "al"),
      });
      using runner = await VcpuRunner.start(vcpu, options);
      b.start();
      for (;;) {
        const exit = await runner.run(2000);
        if (exit.kind !== "io") throw new Error(`unexpected exit ${exit.kind}`);
        if (exit.port === 0x11) break;
      }
      b.end();
    },
  });
}

bench(`${EXITS} port-I/O exits via VcpuRunner (default: poll 50 µs)`, {});
bench(`${EXITS} port-I/O exits via VcpuRunner (no polling)`, { spinUs: 0 });
