/**
 * `deno task test:doc`: every JSDoc example of the workspace. Where /dev/kvm is unusable, the
 * examples that need it ({@linkcode KVM_DOC_PATHS}) are left out, saying so (as `deno task test`
 * skips its KVM tests); `deno task test:kvm` runs them on a real KVM or inside `pvkit nested`.
 */

import { probeKvm } from "@pvkit/kvm";
import { KVM_DOC_PATHS } from "./_kvm_suite.ts";

const root = new URL("..", import.meta.url).pathname;
const ignore = ["**/*_test.ts"];
const kvm = probeKvm();
if (!kvm.usable) {
  ignore.push(...KVM_DOC_PATHS);
  console.error(
    `test:doc: skipped the JSDoc examples of ${KVM_DOC_PATHS.join(", ")}: /dev/kvm unusable ` +
      `(${kvm.reason}); deno task test:kvm runs them inside pvkit nested`,
  );
}
const args = [
  "test",
  "-A",
  "--doc",
  "--permit-no-files",
  `--ignore=${ignore.join(",")}`,
  "machine",
  "packages",
  "plugins",
];
const child = new Deno.Command(Deno.execPath(), { args, cwd: root, stdin: "null" }).spawn();
Deno.exit((await child.status).code);
