#!/usr/bin/env bash
# compare.sh - fqpipe against the usual command-line tools on the same FASTQ file(s).
#
#   bench/compare.sh FILE [FILE...]
#
# For each file: detect plain / gzip / BGZF from the magic bytes, run every command once as a
# warm-up (which also fills the page cache); then RUNS rounds in which every command runs once
# on every plain file, then RUNS rounds over the compressed files (interleaved, so a baseline
# and its rivals, and the rows of different files, meet the same machine: on a shared VM the
# speed drifts from minute to minute; the files should fit in the page cache together); report the median wall time, the throughput in MB/s (10^6
# bytes) of *decompressed* FASTQ, the speed ratio against the first command of the list (the
# baseline; > 1 means faster than it) and the peak RSS. Medians are net of the launcher: each
# round also times `:` through the same /usr/bin/time + bash -c, and that median (~2 ms) is
# subtracted from every row (as hyperfine subtracts its shell's start-up), so files that take
# tens of milliseconds are compared by what the commands themselves cost.
#
# Each round also times a CPU-bound bash loop alone and two copies at once: "cores" in the
# file's header line is the median of 2 x alone / pair, the cores the machine really gave a
# two-thread job while these rows were measured (2.0 on two idle cores; less when the host is busy).
#
# Peak RSS is GNU time's %M: the largest single process of the command, not the sum over a
# pipeline. Wall time is measured in bash ($EPOCHREALTIME) around `time ... bash -c CMD`; the
# runs TSV keeps these raw times, the summary the net ones.
#
# Environment:
#   FQPIPE   fqpipe binary            (default build/release/fqpipe)
#   FQPIPE_BEFORE  a second fqpipe binary (e.g. a build of an older commit): every fqpipe row
#            also runs with it, labelled "before: ...", in the same rounds, for before/after
#   RUNS     timed runs per command   (default 5)
#   ONLY     extended regex: run only commands whose label matches (the baseline always runs)
#   OUT_DIR  where the TSVs go        (default bench/results; ignored by git)
#   FRESH_CACHE  1 (default): before its rows, drop each file from the page cache and read it
#            back sequentially, so every run starts from the same cache layout; 0: as found
#
# Output: the table on stdout, and in OUT_DIR
#   compare-<stamp>.runs.tsv     one row per timed run (file, format, label, command, run, wall_s, rss_kib)
#   compare-<stamp>.summary.tsv  one row per command (the printed table)
#
# Adding a command: append "label :: command" to one of the arrays below (" :: " rather than
# "|" because labels show pipelines). The command runs under
# `bash -o pipefail -c` with $FILE and $FQPIPE set; the first word of each pipeline stage must
# exist (else the row is skipped with a note). A non-zero exit marks the row FAILED.
set -euo pipefail

FQPIPE=${FQPIPE:-build/release/fqpipe}
RUNS=${RUNS:-5}
ONLY=${ONLY:-}
OUT_DIR=${OUT_DIR:-$(dirname "$0")/results}
FRESH_CACHE=${FRESH_CACHE:-1}

# shellcheck disable=SC2016  # $FILE and $FQPIPE expand in the child bash, not here
GZIP_CMDS=(
  'igzip -dc > /dev/null :: igzip -dc "$FILE" > /dev/null'
  'igzip -dc | wc -l :: igzip -dc "$FILE" | wc -l'
  'zcat | wc -l :: zcat "$FILE" | wc -l'
  'pigz -dc -p 2 > /dev/null :: pigz -dc -p 2 "$FILE" > /dev/null'
)
# shellcheck disable=SC2016  # the decoders alone, and the parallel gzip engine (issue 3)
DECODE_CMDS=(
  'fqpipe decompress -t 1 :: "$FQPIPE" decompress -t 1 "$FILE" > /dev/null'
  'fqpipe decompress -t 2 :: "$FQPIPE" decompress -t 2 "$FILE" > /dev/null'
  'fqpipe decompress -t 2 parallel :: "$FQPIPE" decompress -t 2 --gzip-decoder parallel "$FILE" > /dev/null'
  'fqpipe stats -t 2 parallel :: "$FQPIPE" stats -t 2 --gzip-decoder parallel "$FILE" > /dev/null'
  'fqpipe stats -t 2 sequential :: "$FQPIPE" stats -t 2 --gzip-decoder sequential "$FILE" > /dev/null'
)
# shellcheck disable=SC2016
BGZF_CMDS=(
  'bgzip -dc -@ 2 > /dev/null :: bgzip -dc -@ 2 "$FILE" > /dev/null'
)
# shellcheck disable=SC2016
PLAIN_CMDS=(
  'wc -l :: wc -l "$FILE"'
  'cat > /dev/null :: cat "$FILE" > /dev/null'
)
# shellcheck disable=SC2016
COMMON_CMDS=(
  'seqkit stats -j 2 :: seqkit stats -j 2 "$FILE"'
  'fqpipe count -t 1 :: "$FQPIPE" count -t 1 "$FILE" > /dev/null'
  'fqpipe count -t 2 :: "$FQPIPE" count -t 2 "$FILE" > /dev/null'
  'fqpipe stats -t 1 :: "$FQPIPE" stats -t 1 "$FILE" > /dev/null'
  'fqpipe stats -t 2 :: "$FQPIPE" stats -t 2 "$FILE" > /dev/null'
)
# shellcheck disable=SC2016  # one producer against several on the same file (issue 4)
MODE_CMDS=(
  'fqpipe count -t 2 spmc :: "$FQPIPE" count -t 2 --mode spmc "$FILE" > /dev/null'
  'fqpipe count -t 2 mpmc :: "$FQPIPE" count -t 2 --mode mpmc "$FILE" > /dev/null'
  'fqpipe count -t 2 mpmc equal :: "$FQPIPE" count -t 2 --mode mpmc --chunking equal "$FILE" > /dev/null'
  'fqpipe stats -t 2 spmc :: "$FQPIPE" stats -t 2 --mode spmc "$FILE" > /dev/null'
  'fqpipe stats -t 2 mpmc :: "$FQPIPE" stats -t 2 --mode mpmc "$FILE" > /dev/null'
  'fqpipe cat -t 2 > /dev/null :: "$FQPIPE" cat -t 2 "$FILE" > /dev/null'
)

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
if (($# == 0)); then usage >&2; exit 2; fi
case "$1" in -h|--help) usage; exit 0 ;; esac
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: RUNS must be a positive integer" >&2; exit 2; }

TIME_BIN=/usr/bin/time
[[ -x "$TIME_BIN" ]] || { echo "compare.sh: $TIME_BIN not found (Debian package 'time'); peak RSS will be '-'" >&2; TIME_BIN=; }

mkdir -p "$OUT_DIR"
stamp=$(date +%Y%m%d-%H%M%S)
RUNS_TSV=$OUT_DIR/compare-$stamp.runs.tsv
SUMMARY_TSV=$OUT_DIR/compare-$stamp.summary.tsv
printf 'file\tformat\tlabel\tcommand\trun\twall_s\trss_kib\n' > "$RUNS_TSV"
printf 'file\tformat\tdecompressed_bytes\tlabel\tmedian_s\tmb_per_s\tratio\tpeak_rss_mib\truns\n' > "$SUMMARY_TSV"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# format FILE -> plain | gzip | bgzf. BGZF: a gzip header with FEXTRA whose first extra
# subfield is 'BC' (SAM/BAM spec §4.1: 1f 8b 08 04 ... XLEN=6 at bytes 10-11, 'B' 'C' at 12-13).
format() {
  local hex
  hex=$(head -c 14 -- "$1" | od -An -tx1 -v | tr -d ' \n')
  if [[ "${hex:0:4}" != 1f8b ]]; then
    echo plain
  elif [[ "${hex:6:2}" =~ ^(04|05|06|07|0c|0d|0e|0f|14|15|16|17|1c|1d|1e|1f)$ && "${hex:24:4}" == 4243 ]]; then
    echo bgzf   # FLG has FEXTRA (bit 2) and subfield BC
  else
    echo gzip
  fi
}

decompressed_bytes() {
  if [[ "$2" == plain ]]; then
    stat -L -c %s -- "$1"
  elif command -v igzip > /dev/null; then
    igzip -dc -- "$1" | wc -c
  else
    gzip -dc -- "$1" | wc -c
  fi
}

# missing_tool CMD: print the first pipeline stage's program that is not found, if any.
missing_tool() {
  local stage word
  IFS='|' read -ra stages <<< "$1"
  for stage in "${stages[@]}"; do
    read -r word _ <<< "$stage"
    word=${word//\"/}
    word=${word//\$FQPIPE_BEFORE/${FQPIPE_BEFORE:-}}
    word=${word//\$FQPIPE/$FQPIPE}
    if [[ "$word" == */* ]]; then
      [[ -x "$word" ]] || { echo "$word"; return; }
    else
      command -v "$word" > /dev/null || { echo "$word"; return; }
    fi
  done
}

# run_once CMD FILE -> "wall_s rss_kib" on stdout; returns the command's exit status.
run_once() {
  local t0 t1 rc=0 rss=-
  t0=$EPOCHREALTIME
  if [[ -n "$TIME_BIN" ]]; then
    FILE=$2 FQPIPE=$FQPIPE FQPIPE_BEFORE=${FQPIPE_BEFORE:-} "$TIME_BIN" -f %M -o "$TMP/rss" bash -o pipefail -c "$1" > /dev/null 2> "$TMP/err" || rc=$?
  else
    FILE=$2 FQPIPE=$FQPIPE FQPIPE_BEFORE=${FQPIPE_BEFORE:-} bash -o pipefail -c "$1" > /dev/null 2> "$TMP/err" || rc=$?
  fi
  t1=$EPOCHREALTIME
  [[ -n "$TIME_BIN" ]] && rss=$(tail -n 1 "$TMP/rss")
  awk -v a="$t0" -v b="$t1" -v r="$rss" 'BEGIN { printf "%.6f %s\n", b - a, r }'
  return "$rc"
}

table_row() { printf '%-28s %10s %10s %8s %10s\n' "$@"; }

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# available_cores: 2 x (one CPU-bound bash loop alone) / (two at once), to two decimals.
spin() { local i=0; while ((i < 300000)); do ((i++)); done; }
available_cores() {
  local t0 t1 t2
  t0=$EPOCHREALTIME
  spin
  t1=$EPOCHREALTIME
  spin &
  spin
  wait
  t2=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%.2f\n", 2 * (b - a) / (c - b) }'
}

echo "# compare.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo 2> /dev/null | cut -d: -f2 | sed 's/^ //')"
echo "# fqpipe: $FQPIPE ($(git -C "$(dirname "$0")" rev-parse --short HEAD 2> /dev/null || echo '?')$(git -C "$(dirname "$0")" diff --quiet HEAD 2> /dev/null || echo '+dirty')), runs: $RUNS (+1 warm-up), median wall time"

# Setup, file by file: which rows run (their tool exists, their warm-up succeeds). The rows of
# all files are kept in flat arrays (row_*), the files' own data in file_* by file index.
row_file=() row_label=() row_cmd=()
file_path=() file_fmt=() file_bytes=() file_rows=() file_base=() file_skipped=()
for file in "$@"; do
  if [[ ! -r "$file" ]]; then
    echo "compare.sh: cannot read $file" >&2
    exit 2
  fi
  fi_=${#file_path[@]}
  fmt=$(format "$file")
  case "$fmt" in
    plain) cmds=("${PLAIN_CMDS[@]}" "${COMMON_CMDS[@]}" "${MODE_CMDS[@]}") ;;
    gzip)  cmds=("${GZIP_CMDS[@]}" "${COMMON_CMDS[@]}" "${DECODE_CMDS[@]}") ;;
    bgzf)  cmds=("${GZIP_CMDS[@]}" "${BGZF_CMDS[@]}" "${COMMON_CMDS[@]}" "${DECODE_CMDS[@]:0:2}" "${MODE_CMDS[@]}") ;;
  esac
  if [[ -n "${FQPIPE_BEFORE:-}" ]]; then
    # shellcheck disable=SC2016  # $FQPIPE_BEFORE expands in the child bash
    for entry in "${cmds[@]}"; do
      [[ "$entry" == fqpipe* ]] && cmds+=("before: ${entry/\"\$FQPIPE\"/\"\$FQPIPE_BEFORE\"}")
    done
  fi
  file_path+=("$file") file_fmt+=("$fmt") file_bytes+=("$(decompressed_bytes "$file" "$fmt")")
  file_base+=("${cmds[0]%% :: *}")
  if [[ "$FRESH_CACHE" == 1 ]]; then
    # Drop the file's pages and read it back in one sequential pass: how the page cache holds
    # a file (large folios or 4 KiB pages, after writes, reclaim, readahead of earlier runs)
    # changes the kernel's copy cost by up to 40 % (long.fastq, wc -l: 0.056 -> 0.039 s in a
    # timing loop before and after a drop and one `cat`), and
    # with it every ratio against a reader whose time is mostly that copy.
    dd if="$file" iflag=nocache count=0 status=none 2> /dev/null || true
    cat -- "$file" > /dev/null
  fi
  rows='' skipped=''
  for i in "${!cmds[@]}"; do
    entry=${cmds[$i]}
    label=${entry%% :: *}
    cmd=${entry#* :: }
    if ((i > 0)) && [[ -n "$ONLY" ]] && ! [[ "$label" =~ $ONLY ]]; then continue; fi
    miss=$(missing_tool "$cmd")
    if [[ -n "$miss" ]]; then
      skipped+="$(printf '%-28s skipped: %s not found' "$label" "$miss")"$'\n'
      ((i == 0)) && echo "compare.sh: baseline '$label' skipped: ratios are against nothing" >&2
      continue
    fi
    # Warm-up (page cache, binaries); its failure ends this row.
    if ! run_once "$cmd" "$file" > /dev/null; then
      skipped+="$(printf '%-28s FAILED, stderr:' "$label")"$'\n'"$(sed 's/^/    /' "$TMP/err" | head -n 5)"$'\n'
      continue
    fi
    rows+="${#row_cmd[@]} "
    row_file+=("$fi_") row_label+=("$label") row_cmd+=("$cmd")
  done
  file_rows+=("$rows") file_skipped+=("$skipped")
done

# The rounds: every row of every file once per round, so rows of different files (long reads
# against short ones) meet the same minutes of a drifting machine, as rows of one file do.
# Plain files have their rounds first, then compressed ones theirs: rows of plain files that
# met the gzip rows' churned caches in the same rounds read slower (wc -l reads_1.fastq 0.202
# against 0.077 s in runs of the ninth session).
declare -A times=() peak=() failed=()
cores=() launch=()
for group in plain compressed; do
for ((r = 1; r <= RUNS; r++)); do
  any=
  for k in "${!row_cmd[@]}"; do
    [[ "${file_fmt[${row_file[$k]}]}" == plain ]] && in=plain || in=compressed
    [[ "$in" == "$group" ]] && any=1
  done
  [[ -z "$any" ]] && break
  cores+=("$(available_cores)")
  launch+=("$(run_once ':' "${file_path[0]}" | cut -d' ' -f1)")
  for k in "${!row_cmd[@]}"; do
    [[ -n "${failed[$k]:-}" ]] && continue
    [[ "${file_fmt[${row_file[$k]}]}" == plain ]] && in=plain || in=compressed
    [[ "$in" != "$group" ]] && continue
    file=${file_path[${row_file[$k]}]}
    if ! out=$(run_once "${row_cmd[$k]}" "$file"); then
      failed[$k]=$(sed 's/^/    /' "$TMP/err" | head -n 5)
      continue
    fi
    read -r wall rss <<< "$out"
    times[$k]+="$wall "
    [[ "$rss" != - ]] && ((rss > ${peak[$k]:-0})) && peak[$k]=$rss
    printf '%s\t%s\t%s\t%s\t%d\t%s\t%s\n' "$file" "${file_fmt[${row_file[$k]}]}" "${row_label[$k]}" "${row_cmd[$k]}" "$r" "$wall" "$rss" >> "$RUNS_TSV"
  done
done
done

overhead=$(median "${launch[@]}")
for fi_ in "${!file_path[@]}"; do
  file=${file_path[$fi_]} fmt=${file_fmt[$fi_]} bytes=${file_bytes[$fi_]}
  echo
  echo "## $file  ($fmt, $(stat -L -c %s -- "$file") bytes on disk, $bytes decompressed; cores $(printf "%.2f" "$(median "${cores[@]}")"); launcher $(awk -v o="$overhead" 'BEGIN { printf "%.1f", o * 1000 }') ms subtracted)"
  table_row command median_s MB/s ratio rss_MiB
  base_median=
  # shellcheck disable=SC2086  # row indices, space-separated
  for k in ${file_rows[$fi_]}; do
    label=${row_label[$k]}
    if [[ -n "${failed[$k]:-}" ]]; then
      printf '%-28s FAILED, stderr:\n%s\n' "$label" "${failed[$k]}"
      continue
    fi
    # Net of the launcher (time + bash -c, the same for every row): hyperfine's correction.
    # shellcheck disable=SC2086  # the times are space-separated numbers
    median=$(awk -v m="$(median ${times[$k]})" -v o="$overhead" 'BEGIN { printf "%.6f", (m - o > m / 2) ? m - o : m / 2 }')
    [[ -z "$base_median" && "$label" == "${file_base[$fi_]}" ]] && base_median=$median
    read -r med_s mbs ratio rss_mib < <(awk -v m="$median" -v b="$bytes" -v bm="${base_median:-0}" -v p="${peak[$k]:-0}" -v t="$TIME_BIN" 'BEGIN {
        printf "%.3f %.1f %s %s\n", m, b / 1e6 / m, (bm > 0 ? sprintf("%.2f", bm / m) : "-"), (t != "" ? sprintf("%.1f", p / 1024) : "-") }')
    table_row "$label" "$med_s" "$mbs" "$ratio" "$rss_mib"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$fmt" "$bytes" "$label" "$median" "$mbs" "$ratio" "$rss_mib" "$RUNS" >> "$SUMMARY_TSV"
  done
  printf '%s' "${file_skipped[$fi_]}"
done

echo
echo "# per-run times: $RUNS_TSV"
echo "# summary:       $SUMMARY_TSV"
