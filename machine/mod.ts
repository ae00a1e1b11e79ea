/**
 * `@pvkit/machine`: the minimal machine core of pvkit.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./guest_memory.ts";
