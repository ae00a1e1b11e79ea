/**
 * `deno task linux-guest [--json] [--kernel-package NAME]`: provisions the Linux guest
 * `pvkit boot` runs (Debian's kernel and pvkit's initramfs, in pvkit's cache) and prints their
 * paths; progress goes to stderr.
 *
 * @module
 */

import { PvkitError } from "@pvkit/machine";
import { provisionLinuxGuest } from "./linux_guest_image.ts";

const HELP = `Usage: deno task linux-guest [--json] [--kernel-package NAME]

Provisions the Linux guest for \`pvkit boot\` into pvkit's cache and prints its files:
Debian's kernel (downloaded with apt-get and unpacked, never installed; the same one
\`pvkit nested\` uses) and an initramfs of busybox and pvkit's /init.

Options:
  --json                  print {"kernel", "initrd", "kernelVersion"} as JSON
  --kernel-package NAME   use this Debian kernel package (e.g. linux-image-6.1.0-57-amd64)
  -h, --help              show this help

Then: deno task pvkit boot -kernel KERNEL -initrd INITRD -smp 2 --report`;

/** The options of the command line, or the help request. */
interface LinuxGuestArgs {
  help: boolean;
  json: boolean;
  kernelPackage?: string;
}

function parseLinuxGuestArgs(args: readonly string[]): LinuxGuestArgs {
  const out: LinuxGuestArgs = { help: false, json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--help") out.help = true;
    else if (a === "--json") out.json = true;
    else if (a === "--kernel-package" || a.startsWith("--kernel-package=")) {
      const value = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (!value) {
        throw new PvkitError("missing-value", "--kernel-package needs a package name", HELP);
      }
      out.kernelPackage = value;
    } else {
      throw new PvkitError("unknown-option", `unknown option ${a}`, "see --help");
    }
  }
  return out;
}

async function main(args: readonly string[]): Promise<number> {
  try {
    const opts = parseLinuxGuestArgs(args);
    if (opts.help) {
      console.log(HELP);
      return 0;
    }
    const image = await provisionLinuxGuest({
      progress: (m) => console.error(`linux-guest: ${m}`),
      kernelPackage: opts.kernelPackage,
    });
    if (opts.json) console.log(JSON.stringify(image, null, 2));
    else {
      console.log(`kernel  ${image.kernel}`);
      console.log(`initrd  ${image.initrd}`);
      console.log(`version ${image.kernelVersion}`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof PvkitError)) throw e;
    console.error(`linux-guest: ${e.message}`);
    if (e.hint) console.error(e.hint.includes("\n") ? e.hint : `hint: ${e.hint}`);
    return e.code === "unknown-option" || e.code === "missing-value" ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
