// A mutex in one Int32 word of a SharedArrayBuffer, for device state that every vCPU Worker
// maps. The word is 0 (free), 1 (held) or 2 (held, and someone may sleep on it): the
// three-state futex mutex of Drepper's "Futexes Are Tricky" (2011, "Mutex, Take 2"), with
// Atomics.wait/notify as the futex. A short spin comes first, since a device register access
// holds the lock for well under a microsecond. Free functions over (words, index), so that a
// lock or an unlock allocates nothing. Not re-exported by mod.ts.

/** Spins before sleeping: enough for a holder on another core to finish one access. */
const SPINS = 200;

/** Takes the lock in `words[index]`, sleeping (Atomics.wait) when it stays held. */
export function lockWord(words: Int32Array, index: number): void {
  if (Atomics.compareExchange(words, index, 0, 1) === 0) return;
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(words, index) === 0 && Atomics.compareExchange(words, index, 0, 1) === 0) {
      return;
    }
  }
  // Mark the lock contended, so that its holder's unlock wakes a sleeper.
  while (Atomics.exchange(words, index, 2) !== 0) Atomics.wait(words, index, 2);
}

/** Releases the lock in `words[index]`, waking one sleeper if any may wait. */
export function unlockWord(words: Int32Array, index: number): void {
  if (Atomics.exchange(words, index, 0) === 2) Atomics.notify(words, index, 1);
}
