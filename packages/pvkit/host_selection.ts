/**
 * Choosing the host profile: `kvm` (live /dev/kvm), a named Linux profile, or the default
 * (live where /dev/kvm is usable, else the newest named profile).
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { findNamedProfile, namedProfiles, newestProfile, readLiveProfile } from "@pvkit/hosts";
import type { QemuHost } from "@pvkit/qemu";

/** The chosen host, and a note saying why when pvkit chose it. */
export interface HostSelection {
  /** The host. */
  readonly host: QemuHost;
  /** Why this profile, when the user did not name it. */
  readonly note?: string;
}

let liveCache: { profile: QemuHost } | { reason: string } | undefined;

function live(): { profile: QemuHost } | { reason: string } {
  liveCache ??= readLiveProfile();
  return liveCache;
}

/**
 * Resolves a host specification: a profile object, `"kvm"`, a profile name such as
 * `"linux-5.10"`, or nothing (the default).
 *
 * @throws {PvkitError} for an unknown name, or `kvm` where /dev/kvm is unusable
 * @example
 * ```ts
 * import { selectHost } from "@pvkit/pvkit";
 * console.log(selectHost("linux-5.4").host.kvmLeaf.eax.toString(16)); // "1003efb"
 * ```
 */
export function selectHost(spec?: string | QemuHost): HostSelection {
  if (typeof spec === "object") return { host: spec };
  if (spec === undefined) {
    const found = live();
    if ("profile" in found) {
      return { host: found.profile, note: "host profile: kvm (live /dev/kvm)" };
    }
    return {
      host: newestProfile,
      note: `host profile: ${newestProfile.name} (/dev/kvm unusable: ${found.reason})`,
    };
  }
  if (spec === "kvm") {
    const found = live();
    if ("profile" in found) return { host: found.profile };
    throw new PvkitError(
      "host-unavailable",
      `the kvm host profile needs a usable /dev/kvm: ${found.reason}`,
      `use a named profile instead: ${namedProfiles.map((p) => p.name).join(", ")}`,
    );
  }
  const named = findNamedProfile(spec);
  if (named) return { host: named };
  throw new PvkitError(
    "unknown-host",
    `unknown host profile "${spec}"`,
    `use kvm or one of: ${namedProfiles.map((p) => p.name).join(", ")}`,
  );
}
