/**
 * The two POSIX path helpers the CLI needs (the npm build of the standard library pvkit uses
 * ships no `path` module types).
 *
 * @module
 */

/** True for `/…` (and `C:\…`/`\\…` on Windows). */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

/** `folder` + `/` + `path`, without doubling the separator. */
export function join(folder: string, path: string): string {
  return folder.endsWith("/") ? folder + path : `${folder}/${path}`;
}
