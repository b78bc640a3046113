#!/usr/bin/env bash
# Runs the fuzz targets (cargo-fuzz, libFuzzer, coverage-guided) for SECONDS each, on this machine's stable
# toolchain: RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags (AddressSanitizer) to stable rustc. Debug assertions
# are on, so an arithmetic overflow is a crash.
#
#   fuzz/run.sh SECONDS [TARGET...]        (make fuzz: 300 s each; make fuzz-test: a few seconds each)
#
# Each target starts from every input in fuzz/regressions/TARGET (crashes found before, kept: each must pass now)
# and fuzz/seeds/TARGET (committed seeds), then mutates for SECONDS. New coverage goes to fuzz/corpus/TARGET
# (not committed); a crash, leak, out-of-memory or timeout is written to fuzz/artifacts/TARGET/ and fails the run:
# copy it into fuzz/regressions/TARGET/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model style image tile_plan)
export RUSTC_BOOTSTRAP=1
cargo fuzz build >/dev/null
status=0
for target in "${targets[@]}"; do
  corpus=fuzz/corpus/$target
  # Only this run's findings in artifacts/: kept ones live in regressions/.
  rm -rf "fuzz/artifacts/$target"
  mkdir -p "$corpus" "fuzz/artifacts/$target" "fuzz/regressions/$target" "fuzz/seeds/$target"
  dirs=("$corpus" "fuzz/regressions/$target" "fuzz/seeds/$target")
  # Model files: the hostile files of tests/bad/ and the two smaller shipped models (the predictor's 2.4 MB would
  # make every mutation slow).
  [ "$target" = model ] && dirs+=(tests/bad) && cp -n models/multistyle26.vitrine.safetensors models/arbitrary_transform.vitrine.safetensors "$corpus/"
  log=fuzz/artifacts/$target/last-run.log
  # 1 GiB per allocation is the CLI's own decoder limit; more is a finding.
  if cargo fuzz run "$target" "${dirs[@]}" -- -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
    -malloc_limit_mb=1100 -max_len=300000 -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  # Final stats on a clean run; on a finding, the last progress line's count.
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' ||
    grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  echo "fuzz $target: $result, $runs executions in ${seconds} s, ${coverage:-cov: ?} (log: $log)"
  if [ $result = FAILED ]; then
    grep -m3 -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | sed 's/^/    /' || true
    ls fuzz/artifacts/"$target"/ | grep -v last-run.log | sed 's/^/    artifact: /' || true
  fi
done
exit $status
