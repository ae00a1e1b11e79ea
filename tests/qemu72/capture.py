#!/usr/bin/env python3
"""Capture QEMU 7.2's final CPUID 0x40000001 for a list of -cpu/-machine/-smp/-accel cases.

Reads tests/qemu72/cases.in.json and writes tests/qemu72/cases.json plus one transcript
per case under tests/qemu72/raw/<id>.txt. Needs qemu-system-x86_64 and /dev/kvm.
This is a one-off capture tool: QEMU is not a run-time or CI dependency of pvkit.

Per case QEMU runs paused (-S), with QMP on stdio; nothing is executed in the guest:

  timeout 20 qemu-system-x86_64 -S -display none -nodefaults -no-user-config -qmp stdio \
      -accel <ACCEL> -cpu <CPU> [-machine <MACHINE>] [-smp <SMP>]

QMP conversation: qmp_capabilities; query-cpus-fast (qom-path of the first CPU);
qom-get <path> feature-words; qom-get <path> filtered-features; qom-get <path> kvm;
quit. If QEMU exits before QMP answers (fatal error), only the exit status and stderr
are recorded.

Usage: python3 tests/qemu72/capture.py [--only ID[,ID...]]
"""

import datetime
import json
import os
import platform
import signal
import subprocess
import tempfile
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU = "qemu-system-x86_64"
TIMEOUT = "20"
BASE = [
    "timeout", TIMEOUT, QEMU, "-S", "-display", "none", "-nodefaults", "-no-user-config",
    "-qmp", "stdio",
]
TEMPLATE = (
    "timeout 20 qemu-system-x86_64 -S -display none -nodefaults -no-user-config -qmp stdio "
    "-accel <ACCEL> -cpu <CPU> [-machine <MACHINE>] [-smp <SMP>]"
)

LEAF_KVM = 0x40000001
# QEMU 7.2 feat_names for FEAT_KVM (CPUID 0x40000001 EAX). Bit 10 has no name in 7.2
# (kvm-asyncpf-vmexit arrived in 8.2); unnamed bits are reported as "bit<N>".
KVM_EAX_NAMES = {
    0: "kvmclock", 1: "kvm-nopiodelay", 2: "kvm-mmu", 3: "kvmclock", 4: "kvm-asyncpf",
    5: "kvm-steal-time", 6: "kvm-pv-eoi", 7: "kvm-pv-unhalt", 9: "kvm-pv-tlb-flush",
    11: "kvm-pv-ipi", 12: "kvm-poll-control", 13: "kvm-pv-sched-yield",
    14: "kvm-asyncpf-int", 15: "kvm-msi-ext-dest-id", 24: "kvmclock-stable-bit",
}
KVM_EDX_NAMES = {0: "kvm-hint-dedicated"}


# Facts about this capture host that explain some results (see README.md).
NOTES = [
    "exit follows the shell convention: 128+N when QEMU died from signal N (then 'signal' "
    "names it); 124 would mean timeout(1) fired. eax/edx/x2apic are null when QMP never "
    "answered.",
    "machine null: no -machine option (default machine pc-i440fx-7.2); smp null: no -smp option.",
    "accel is the accelerator name; accelArg is the full -accel argument.",
    "kvmLeaf is derived, not measured: true when accel is kvm and the CPU property 'kvm' "
    "(expose_kvm) reads true; kvm_arch_init_vcpu then emits leaves 0x40000000/1 (no hv-* or "
    "Xen options are used in these cases).",
    "filtered/filteredWords cover CPUID 0x40000001 only; stderr has every warning verbatim, "
    "including the host's non-PV ones.",
    "This host (nested, kvm_pvm-backed) lacks many non-PV features: every named model gets "
    "'host doesn't support requested feature' warnings for non-PV bits (qemu64: pni), so "
    "enforce=on fails for every named model unless those bits are removed.",
    "host and max abort at reset on this host (KVM refuses MSR 0x10a IA32_ARCH_CAPABILITIES); "
    "the host/max cases that should produce words add -arch-capabilities, which does not "
    "touch CPUID 0x40000001.",
    "KVM_GET_SUPPORTED_CPUID 0x40000001 here: EAX 0x01007efb (bit 10, unnamed in 7.2, "
    "included), EDX 0. host with migratable=on drops bit 10 (0x01007afb).",
]


def hex32(v):
    return None if v is None else "0x%08x" % v


def bits_to_names(value, names, reg):
    out = []
    for b in range(32):
        if value >> b & 1:
            out.append(names.get(b, "%s.bit%d" % (reg, b)))
    return out


def word(words, leaf, reg, ecx=None):
    for w in words:
        if w["cpuid-input-eax"] == leaf and w["cpuid-register"] == reg:
            if ecx is None or w.get("cpuid-input-ecx") == ecx:
                return w["features"]
    return None


def build_argv(case):
    argv = list(BASE)
    argv += ["-accel", case["accel"], "-cpu", case["cpu"]]
    if case.get("machine") is not None:
        argv += ["-machine", case["machine"]]
    if case.get("smp") is not None:
        argv += ["-smp", str(case["smp"])]
    return argv


class Qmp:
    def __init__(self, proc, log):
        self.proc = proc
        self.log = log

    def read_msg(self):
        """Next non-event message, or None on EOF."""
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return None
            self.log.append("<- " + line.rstrip("\n"))
            msg = json.loads(line)
            if "event" in msg:
                continue
            return msg

    def cmd(self, execute, arguments=None):
        req = {"execute": execute}
        if arguments is not None:
            req["arguments"] = arguments
        text = json.dumps(req)
        self.log.append("-> " + text)
        try:
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return None
        return self.read_msg()


def run_case(case):
    argv = build_argv(case)
    log = ["$ " + " ".join(json.dumps(a) if (a == "" or " " in a) else a for a in argv)]
    # stderr goes to a file, not a pipe: with hundreds of vCPUs QEMU writes more than a
    # pipe buffer of warnings before QMP answers, and would block.
    errf = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=errf, text=True)
    q = Qmp(proc, log)
    words = filtered = kvm_prop = None
    qmp_error = None
    greeting = q.read_msg()
    if greeting is not None and "QMP" in greeting:
        q.cmd("qmp_capabilities")
        cpus = q.cmd("query-cpus-fast")
        if cpus and cpus.get("return"):
            path = sorted(cpus["return"], key=lambda c: c["cpu-index"])[0]["qom-path"]
            r = q.cmd("qom-get", {"path": path, "property": "feature-words"})
            words = r.get("return") if r else None
            r = q.cmd("qom-get", {"path": path, "property": "filtered-features"})
            filtered = r.get("return") if r else None
            r = q.cmd("qom-get", {"path": path, "property": "kvm"})
            kvm_prop = r.get("return") if r else None
        else:
            qmp_error = cpus
        q.cmd("quit")
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    rest = proc.stdout.read()
    if rest:
        log.extend("<- " + l for l in rest.splitlines())
    rc = proc.wait()
    errf.seek(0)
    stderr = errf.read()
    errf.close()
    signame = None
    if rc < 0:
        # timeout(1) re-raises the child's fatal signal on itself; report it the way a
        # shell does (128 + signal number) and name the signal.
        signame = signal.Signals(-rc).name
        rc = 128 - rc
    stderr_lines = stderr.splitlines()
    log.append("# stderr:")
    log.extend(stderr_lines)
    log.append("# exit: %d" % rc)

    accel_name = case["accel"].split(",")[0]
    res = {
        "id": case["id"],
        "cpu": case["cpu"],
        "machine": case.get("machine"),
        "smp": case.get("smp"),
        "accel": accel_name,
        "accelArg": case["accel"],
        "exit": rc,
    }
    if signame:
        res["signal"] = signame
    if words is not None:
        eax = word(words, LEAF_KVM, "EAX")
        edx = word(words, LEAF_KVM, "EDX")
        ecx1 = word(words, 1, "ECX")
        feax = word(filtered or [], LEAF_KVM, "EAX") or 0
        fedx = word(filtered or [], LEAF_KVM, "EDX") or 0
        res.update({
            "eax": hex32(eax),
            "edx": hex32(edx),
            "x2apic": bool(ecx1 >> 21 & 1) if ecx1 is not None else None,
            "filtered": bits_to_names(feax, KVM_EAX_NAMES, "EAX")
            + bits_to_names(fedx, KVM_EDX_NAMES, "EDX"),
            "filteredWords": {"eax": hex32(feax), "edx": hex32(fedx)},
            # Leaf 0x40000000/0x40000001 is emitted by kvm_arch_init_vcpu only under KVM
            # and when the CPU property "kvm" (expose_kvm) is true (no hv-*/Xen here).
            "kvmLeaf": accel_name == "kvm" and kvm_prop is True,
        })
    else:
        res.update({"eax": None, "edx": None, "x2apic": None, "filtered": [],
                    "filteredWords": None, "kvmLeaf": None})
        if qmp_error is not None:
            res["qmpError"] = qmp_error
    res["stderr"] = stderr_lines
    res["note"] = case.get("note", "")
    return res, log


def main():
    only = None
    if len(sys.argv) > 2 and sys.argv[1] == "--only":
        only = set(sys.argv[2].split(","))
    with open(os.path.join(HERE, "cases.in.json")) as f:
        cases_in = json.load(f)
    ids = [c["id"] for c in cases_in["cases"]]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    os.makedirs(os.path.join(HERE, "raw"), exist_ok=True)
    version = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout
    results = []
    for case in cases_in["cases"]:
        if only and case["id"] not in only:
            continue
        res, log = run_case(case)
        with open(os.path.join(HERE, "raw", case["id"] + ".txt"), "w") as f:
            f.write("\n".join(log) + "\n")
        print("%-40s exit=%s eax=%s edx=%s x2apic=%s filtered=%s" % (
            res["id"], res["exit"], res["eax"], res["edx"], res["x2apic"], res["filtered"]),
            file=sys.stderr)
        results.append(res)
    if only:
        print(json.dumps(results, indent=2))
        return
    sup = next(r for r in results if r["id"] == cases_in["hostSupportedCase"])
    out = {
        "description": "QEMU 7.2 reference: final CPUID 0x40000001 (EAX=FEAT_KVM, "
        "EDX=FEAT_KVM_HINTS) and CPUID 1 ECX.x2apic per -cpu/-machine/-smp/-accel. "
        "Captured by tests/qemu72/capture.py; do not regenerate in CI.",
        "qemuVersion": version.splitlines()[0],
        "kernel": platform.release(),
        "hostCpu": cpu_model(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commandTemplate": TEMPLATE,
        "qmpSequence": [
            '{"execute":"qmp_capabilities"}',
            '{"execute":"query-cpus-fast"}',
            '{"execute":"qom-get","arguments":{"path":"<qom-path of cpu-index 0>",'
            '"property":"feature-words"}}',
            '{"execute":"qom-get","arguments":{"path":"<qom-path>","property":'
            '"filtered-features"}}',
            '{"execute":"qom-get","arguments":{"path":"<qom-path>","property":"kvm"}}',
            '{"execute":"quit"}',
        ],
        "hostSupported": {
            "case": sup["id"],
            "cpu": sup["cpu"],
            "machine": sup["machine"],
            "eax": sup["eax"],
            "edx": sup["edx"],
        },
        "notes": NOTES,
        "cases": results,
    }
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print("%d cases written" % len(results), file=sys.stderr)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


if __name__ == "__main__":
    main()
