#!/usr/bin/env bash
# Regenerates encoding_vectors.json: assembles each line of vectors.asm with GNU as
# (`as --64`, `.intel_syntax noprefix`) and records the bytes that line produced.
#
# usage: tools/make_vectors.sh [SOURCE] [OUTPUT]
#   SOURCE  vector lines, one per line; blank lines and lines starting with # are skipped
#           (default: tools/vectors.asm)
#   OUTPUT  JSON file to write, or - for stdout (default: encoding_vectors.json)
#
# All lines go into one file, each preceded by a marker label `__vector_N:`. The marker
# offsets (from nm) cut the assembled .text section (from objcopy) into per-line byte runs,
# so one `as` run serves every vector. Needs bash, as, nm, objcopy (GNU binutils) and od.
set -euo pipefail

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_file=${1:-$tools_dir/vectors.asm}
output=${2:-$(dirname "$tools_dir")/encoding_vectors.json}

for tool in as nm objcopy od; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "make_vectors.sh: '$tool' not found; install GNU binutils" >&2
    exit 127
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

lines=()
while IFS= read -r line || [[ -n $line ]]; do
  line=${line%$'\r'}
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  if [[ $line == *'"'* || $line == *'\'* ]]; then
    echo "make_vectors.sh: quotes and backslashes are not allowed in vectors: $line" >&2
    exit 1
  fi
  lines+=("$line")
done <"$source_file"
count=${#lines[@]}

# Line 1 and 2 are directives; vector i's marker is on line 3+2i and its text on 4+2i.
{
  echo ".intel_syntax noprefix"
  echo ".text"
  for ((i = 0; i < count; i++)); do
    printf '__vector_%d:\n%s\n' "$i" "${lines[i]}"
  done
  printf '__vector_%d:\n' "$count"
} >"$work/vectors.s"

if ! as --64 --fatal-warnings -o "$work/vectors.o" "$work/vectors.s" 2>"$work/as.log"; then
  echo "make_vectors.sh: GNU as rejected some vectors:" >&2
  while IFS= read -r message; do
    if [[ $message =~ ^[^:]*vectors\.s:([0-9]+):[[:space:]]*(.*)$ ]]; then
      n=$(((BASH_REMATCH[1] - 4) / 2))
      echo "  vector $n '${lines[n]}': ${BASH_REMATCH[2]}" >&2
    else
      echo "  $message" >&2
    fi
  done <"$work/as.log"
  exit 1
fi

objcopy -O binary --only-section=.text "$work/vectors.o" "$work/vectors.bin"
read -r -a bytes <<<"$(od -An -v -tx1 "$work/vectors.bin" | tr '\n' ' ')"

offsets=()
while read -r value _ name; do
  if [[ $name =~ ^__vector_([0-9]+)$ ]]; then
    offsets[BASH_REMATCH[1]]=$((16#$value))
  fi
done < <(nm --defined-only "$work/vectors.o")
if ((${#offsets[@]} != count + 1)); then
  echo "make_vectors.sh: expected $((count + 1)) markers, nm listed ${#offsets[@]}" >&2
  exit 1
fi

# The layout deno fmt gives a JSON array of objects, so the file is stable under `deno fmt`.
{
  echo "["
  for ((i = 0; i < count; i++)); do
    start=${offsets[i]}
    run=("${bytes[@]:start:offsets[i + 1] - start}")
    separator=","
    ((i == count - 1)) && separator=""
    printf '  {\n    "asm": "%s",\n    "bytes": "%s"\n  }%s\n' "${lines[i]}" "${run[*]}" "$separator"
  done
  echo "]"
} >"$work/vectors.json"

if [[ $output == "-" ]]; then
  cat "$work/vectors.json"
else
  mv "$work/vectors.json" "$output"
  echo "make_vectors.sh: wrote $count vectors to $output" >&2
fi
