/**
 * Reads a Linux guest's console text as `pvkit boot` captured it: the `/init` lines of
 * {@link ./boot_init.ts} (the init time, the `pvkit-report:` block, the load and reboot lines),
 * the kernel's own lines (timestamps stripped), and a kernel panic, into a typed
 * {@linkcode GuestConsoleReport} that says what is missing when the block never came.
 *
 * @module
 */

import { BOOT_MARK, REPORT_MARK } from "./boot_init.ts";

/**
 * One `cpu` line of `/proc/stat`, in USER_HZ ticks (proc(5): user nice system idle iowait irq
 * softirq steal guest guest_nice).
 *
 * @example
 * ```ts
 * import type { CpuStat } from "@pvkit/vmm";
 * const s: CpuStat = {
 *   cpu: 0, user: 10, nice: 0, system: 5, idle: 300, iowait: 0, irq: 0, softirq: 1, steal: 7,
 * };
 * console.log(s.steal);
 * ```
 */
export interface CpuStat {
  /** The CPU number, or `"all"` for the summary `cpu` line. */
  readonly cpu: number | "all";
  /** Time in user mode. */
  readonly user: number;
  /** Time in user mode at low priority. */
  readonly nice: number;
  /** Time in kernel mode. */
  readonly system: number;
  /** Idle time. */
  readonly idle: number;
  /** Time waiting for I/O. */
  readonly iowait: number;
  /** Time servicing interrupts. */
  readonly irq: number;
  /** Time servicing softirqs. */
  readonly softirq: number;
  /** Stolen time: the hypervisor ran something else while this vCPU was runnable. */
  readonly steal: number;
}

/**
 * What the guest's console said. Numbers are seconds of guest uptime (`/proc/uptime`).
 *
 * @example
 * ```ts
 * import { parseGuestConsole } from "@pvkit/vmm";
 * const r = parseGuestConsole("pvkit-boot: init 1.25\n");
 * console.log(r.initUptimeSeconds, r.missing); // 1.25 [ "report block (pvkit-report: begin)" ]
 * ```
 */
export interface GuestConsoleReport {
  /** Uptime when `/init` started (`pvkit-boot: init <uptime>`): the boot time to /init. */
  readonly initUptimeSeconds?: number;
  /** `pvkit.test=` the init script acted on (`panic`, `hang`). */
  readonly test?: string;
  /** Both `pvkit-report: begin` and `pvkit-report: end` were seen. */
  readonly reportComplete: boolean;
  /** Uptime at `pvkit-report: end`. */
  readonly reportEndUptimeSeconds?: number;
  /** The kernel log lines of the block (`dmesg`, filtered, without timestamps). */
  readonly dmesg: readonly string[];
  /** Kernel lines printed on the console itself (`[ 0.123456] text`), without timestamps. */
  readonly consoleKernelLines: readonly string[];
  /** The `cpu` lines of /proc/stat in the block. */
  readonly cpuStat: readonly CpuStat[];
  /** The `cpu` lines of /proc/stat after every CPU spun (`stat-after-load`). */
  readonly cpuStatAfterLoad: readonly CpuStat[];
  /** `/sys/devices/system/cpu/cpuidle/current_driver` (e.g. `haltpoll`, `none`). */
  readonly cpuidleDriver?: string;
  /** `/sys/devices/system/clocksource/clocksource0/current_clocksource`. */
  readonly clocksource?: string;
  /** `/sys/devices/system/cpu/online`, expanded (`0-1` gives `[0, 1]`). */
  readonly onlineCpus?: readonly number[];
  /** `/sys/devices/system/cpu/possible`, expanded. */
  readonly possibleCpus?: readonly number[];
  /** `nproc` in the guest. */
  readonly nproc?: number;
  /** `/proc/cmdline`. */
  readonly cmdline?: string;
  /** Seconds each CPU spun (`pvkit-boot: load <s>`). */
  readonly loadSeconds?: number;
  /** Uptime at `pvkit-boot: reboot <uptime>`. */
  readonly rebootUptimeSeconds?: number;
  /** The text after `Kernel panic - not syncing: `, when the kernel panicked. */
  readonly panic?: string;
  /** What the console should have had and did not, worded for people. */
  readonly missing: readonly string[];
}

const PANIC = /Kernel panic - not syncing: (.*?)(?: \]---)?\s*$/;
const KERNEL_LINE = /^\[\s*\d+\.\d+\]\s?(.*)$/;

/**
 * Parses the console text (`\r\n` or `\n` line ends; a marker need not start its line, as the
 * kernel may have printed on the same line first).
 *
 * @example
 * ```ts
 * import { parseGuestConsole } from "@pvkit/vmm";
 * import { assertEquals } from "@std/assert";
 * const r = parseGuestConsole([
 *   "pvkit-boot: init 2.50",
 *   "pvkit-report: begin",
 *   "pvkit-report: dmesg kvm-guest: setup PV IPIs",
 *   "pvkit-report: stat cpu0 10 0 5 300 0 0 1 7 0 0",
 *   "pvkit-report: cpuidle none",
 *   "pvkit-report: clocksource kvm-clock",
 *   "pvkit-report: online 0-1",
 *   "pvkit-report: possible 0-1",
 *   "pvkit-report: nproc 2",
 *   "pvkit-report: cmdline console=ttyS0",
 *   "pvkit-report: end 2.61",
 * ].join("\n"));
 * assertEquals(r.dmesg, ["kvm-guest: setup PV IPIs"]);
 * assertEquals(r.cpuStat[0].steal, 7);
 * assertEquals(r.onlineCpus, [0, 1]);
 * assertEquals(r.missing, []);
 * ```
 */
export function parseGuestConsole(text: string): GuestConsoleReport {
  let init: number | undefined;
  let test: string | undefined;
  let begun = false;
  let ended = false;
  let endUptime: number | undefined;
  const dmesg: string[] = [];
  const consoleKernelLines: string[] = [];
  const cpuStat: CpuStat[] = [];
  const cpuStatAfterLoad: CpuStat[] = [];
  const sys: Record<string, string> = {};
  let loadSeconds: number | undefined;
  let reboot: number | undefined;
  let panic: string | undefined;

  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r/g, "");
    const p = panic === undefined ? PANIC.exec(line) : null;
    if (p) panic = p[1].trim();
    const boot = line.indexOf(BOOT_MARK);
    const report = line.indexOf(REPORT_MARK);
    if (boot >= 0) {
      const [kind, ...rest] = line.slice(boot + BOOT_MARK.length).trim().split(" ");
      const value = rest.join(" ");
      if (kind === "init") init ??= seconds(value);
      else if (kind === "test") test = value;
      else if (kind === "load") loadSeconds = seconds(value);
      else if (kind === "reboot") reboot = seconds(value);
    } else if (report >= 0) {
      const body = line.slice(report + REPORT_MARK.length).replace(/^ /, "");
      const space = body.indexOf(" ");
      const kind = space < 0 ? body : body.slice(0, space);
      const value = space < 0 ? "" : body.slice(space + 1);
      if (kind === "begin") begun = true;
      else if (kind === "end") {
        ended = begun;
        endUptime = seconds(value);
      } else if (kind === "dmesg") dmesg.push(stripTimestamp(value));
      else if (kind === "stat") pushStat(cpuStat, value);
      else if (kind === "stat-after-load") pushStat(cpuStatAfterLoad, value);
      else sys[kind] = value.trim();
    } else {
      const k = KERNEL_LINE.exec(line);
      if (k) consoleKernelLines.push(k[1]);
    }
  }

  const complete = begun && ended;
  const missing: string[] = [];
  if (init === undefined) missing.push("init line (pvkit-boot: init)");
  if (!begun) missing.push("report block (pvkit-report: begin)");
  else if (!ended) missing.push("end of the report block (pvkit-report: end)");
  const field = (key: string, what: string) => {
    const v = sys[key];
    if (complete && !v) missing.push(what);
    return v || undefined;
  };
  const cpuidleDriver = field("cpuidle", "cpuidle driver");
  const clocksource = field("clocksource", "current clocksource");
  const online = field("online", "online CPUs");
  const possible = field("possible", "possible CPUs");
  const nproc = field("nproc", "nproc");
  const cmdline = field("cmdline", "kernel command line");
  if (complete && cpuStat.length === 0) missing.push("/proc/stat cpu lines");
  return {
    initUptimeSeconds: init,
    test,
    reportComplete: complete,
    reportEndUptimeSeconds: endUptime,
    dmesg,
    consoleKernelLines,
    cpuStat,
    cpuStatAfterLoad,
    cpuidleDriver,
    clocksource,
    onlineCpus: online === undefined ? undefined : parseCpuList(online),
    possibleCpus: possible === undefined ? undefined : parseCpuList(possible),
    nproc: nproc === undefined ? undefined : seconds(nproc),
    cmdline,
    loadSeconds,
    rebootUptimeSeconds: reboot,
    panic,
    missing,
  };
}

/**
 * Steal ticks per CPU from the latest sample (after the load when there is one), in CPU order;
 * empty when the console had no `/proc/stat` lines.
 *
 * @example
 * ```ts
 * import { parseGuestConsole, stealTicks } from "@pvkit/vmm";
 * const r = parseGuestConsole("pvkit-report: stat cpu1 1 0 1 9 0 0 0 4 0 0\n");
 * console.log(stealTicks(r)); // [ { cpu: 1, steal: 4 } ]
 * ```
 */
export function stealTicks(report: GuestConsoleReport): { cpu: number; steal: number }[] {
  const sample = report.cpuStatAfterLoad.length ? report.cpuStatAfterLoad : report.cpuStat;
  return sample.flatMap((s) => s.cpu === "all" ? [] : [{ cpu: s.cpu, steal: s.steal }]);
}

/**
 * Expands a kernel CPU list (`0-3,5`, Documentation/admin-guide/cputopology.rst) into numbers.
 *
 * @example
 * ```ts
 * import { parseCpuList } from "@pvkit/vmm";
 * console.log(parseCpuList("0-2,5")); // [ 0, 1, 2, 5 ]
 * ```
 */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi && c - lo < 8192; c++) out.push(c);
  }
  return out;
}

function stripTimestamp(line: string): string {
  return KERNEL_LINE.exec(line)?.[1] ?? line;
}

function seconds(text: string): number | undefined {
  const n = Number.parseFloat(text);
  return Number.isFinite(n) ? n : undefined;
}

function pushStat(into: CpuStat[], line: string): void {
  const [name, ...fields] = line.trim().split(/\s+/);
  const m = /^cpu(\d*)$/.exec(name ?? "");
  if (!m) return;
  const n = fields.map((f) => Number.parseInt(f, 10) || 0);
  into.push({
    cpu: m[1] === "" ? "all" : Number(m[1]),
    user: n[0] ?? 0,
    nice: n[1] ?? 0,
    system: n[2] ?? 0,
    idle: n[3] ?? 0,
    iowait: n[4] ?? 0,
    irq: n[5] ?? 0,
    softirq: n[6] ?? 0,
    steal: n[7] ?? 0,
  });
}
