// Path helpers for the POSIX paths this package handles (it runs on Linux only).

/** Joins path segments with `/`, without doubling separators. */
export function join(...parts: string[]): string {
  return parts.join("/").replace(/\/{2,}/g, "/");
}

/** The folder part of a path (`/a/b` gives `/a`). */
export function dirname(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}
