/**
 * Feature state as CPUID words: the bits requested so far, which of them the user (or a
 * default) touched, and why each feature is where it is.
 *
 * @module
 */

import { bitMask } from "./cpuid.ts";
import type { FeatureSource } from "./composition.ts";
import type { PluginManifest } from "./manifest.ts";

/** Identifies one CPUID output register of one leaf, e.g. `"40000001:eax"`. */
export type WordKey = string;

/**
 * The key of the word a manifest's bits live in.
 *
 * @example
 * ```ts
 * import { wordKeyOf } from "@pvkit/machine";
 * console.log(wordKeyOf({ leaf: 0x40000001, register: "eax" })); // "40000001:eax"
 * ```
 */
export function wordKeyOf(cpuid: { leaf: number; register: string }): WordKey {
  return `${cpuid.leaf.toString(16)}:${cpuid.register}`;
}

/** Mutable per-word feature bits with the bookkeeping QEMU's `user_features` does. */
export class FeatureWords {
  readonly #bits = new Map<WordKey, number>();
  readonly #user = new Map<WordKey, number>();
  readonly #source = new Map<string, FeatureSource>();

  /** The requested bits of a word. */
  get(word: WordKey): number {
    return this.#bits.get(word) ?? 0;
  }

  /** Replaces the requested bits of a word. */
  put(word: WordKey, value: number): void {
    this.#bits.set(word, value >>> 0);
  }

  /** The bits any property (defaults included) has set or cleared. */
  userMask(word: WordKey): number {
    return this.#user.get(word) ?? 0;
  }

  /** Every word that has state. */
  words(): WordKey[] {
    return [...new Set([...this.#bits.keys(), ...this.#user.keys()])];
  }

  /** Sets or clears a feature's bits as a property does, marking them as touched. */
  set(m: PluginManifest, enabled: boolean, source: FeatureSource): void {
    const word = wordKeyOf(m.cpuid);
    const mask = bitMask(m.cpuid.bits);
    this.put(word, enabled ? this.get(word) | mask : this.get(word) & ~mask);
    this.#user.set(word, (this.userMask(word) | mask) >>> 0);
    this.#source.set(m.name, source);
  }

  /** Clears a feature's bits without marking them touched (filtering, rules). */
  clear(m: PluginManifest, source: FeatureSource): void {
    const word = wordKeyOf(m.cpuid);
    this.put(word, this.get(word) & ~bitMask(m.cpuid.bits));
    this.#source.set(m.name, source);
  }

  /** True when every bit of the feature is set (QEMU reads kvmclock as on only if both are). */
  isEnabled(m: PluginManifest): boolean {
    const mask = bitMask(m.cpuid.bits);
    return ((this.get(wordKeyOf(m.cpuid)) & mask) >>> 0) === mask;
  }

  /** Why the feature is in its state (`default` when nothing touched it). */
  sourceOf(name: string): FeatureSource {
    return this.#source.get(name) ?? "default";
  }

  /** Records why a feature is in its state. */
  setSource(name: string, source: FeatureSource): void {
    this.#source.set(name, source);
  }
}
