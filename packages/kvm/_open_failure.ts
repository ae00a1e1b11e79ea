// Why opening the KVM device failed, in words a user can act on. Shared by KvmSystem.open (as
// the KvmError hint) and probeKvm (as the reason).

import { Errno, errnoName } from "./errno.ts";

/** A short reason, e.g. "permission denied opening /dev/kvm". */
export function openFailureReason(path: string, errno: number): string {
  switch (errno) {
    case Errno.ENOENT:
      return `${path} does not exist`;
    case Errno.EACCES:
    case Errno.EPERM:
      return `permission denied opening ${path}`;
    case Errno.ENXIO:
    case Errno.ENODEV:
      return `${path} has no KVM driver behind it (${errnoName(errno)})`;
    default:
      return `opening ${path} failed: ${errnoName(errno)} (${errno})`;
  }
}

/** How to fix it, when there is a usual fix. */
export function openFailureHint(errno: number): string | undefined {
  switch (errno) {
    case Errno.ENOENT:
    case Errno.ENXIO:
    case Errno.ENODEV:
      return "load the KVM module (modprobe kvm_intel or kvm_amd) on a host with hardware " +
        "virtualization, or pass the right device path";
    case Errno.EACCES:
    case Errno.EPERM:
      return "the device needs read and write access: add the user to the kvm group or run as root";
    default:
      return undefined;
  }
}
