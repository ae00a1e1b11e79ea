/** Every example runs to completion with `deno run`. */

import { assertEquals } from "@std/assert";

const dir = new URL("../examples/", import.meta.url);

for (const entry of Deno.readDirSync(dir)) {
  if (!entry.name.endsWith(".ts")) continue;
  Deno.test(`examples/${entry.name} runs`, async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(entry.name, dir).href],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, err);
  });
}
