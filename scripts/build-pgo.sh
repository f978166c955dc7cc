#!/usr/bin/env bash
# Builds target/pgo/drydock: the `dist` build (fat LTO, one codegen unit, panics
# abort) optimized with a profile of the simulator's own hot paths (profile-guided
# optimization): ~12 % fewer instructions than `dist` for a run. Results do not
# depend on it: the script ends by checking the bundled catalogue against its goldens
# with the new binary, and fails if any fingerprint or report differs.
#
# Steps: an instrumented build (target/pgo-generate/), training runs of every bundled
# scenario and six simulated hours of benches/calm_24h.toml, the merge of their
# profiles (target/pgo-profiles/), the optimized build (target/pgo/), the check.
# (target/ is CARGO_TARGET_DIR when that is set.)
# Needs llvm-profdata from the toolchain's llvm-tools component:
#   rustup component add llvm-tools
# Honours RUSTFLAGS (the profile flags are appended to it); without it the flags are
# added to the ones .cargo/config.toml sets for the host.
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [[ ! -x "$profdata" ]]; then
  echo "build-pgo: llvm-profdata not found at $profdata; install it with: rustup component add llvm-tools" >&2
  exit 2
fi
# The target folder (CARGO_TARGET_DIR or the build.target-dir setting, if set).
target=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
profiles="$target/pgo-profiles"

# cargo build --profile $1 with the extra rustc flag $2.
build() {
  if [[ -n "${RUSTFLAGS:-}" ]]; then
    RUSTFLAGS="$RUSTFLAGS $2" cargo build --locked --profile "$1"
  else
    cargo build --locked --profile "$1" --config "target.$host.rustflags=['$2']"
  fi
}

echo "build-pgo: 1/5 instrumented build" >&2
rm -rf "$profiles"
mkdir -p "$profiles"
build pgo-generate "-Cprofile-generate=$profiles"

echo "build-pgo: 2/5 training runs" >&2
train=$(mktemp -d)
trap 'rm -rf "$train"' EXIT
train_run() {
  local status=0
  "$target/pgo-generate/drydock" run "$@" --out "$train/run" > /dev/null || status=$?
  # 0: expectations pass, 1: one failed; both are full runs and good training.
  if (( status > 1 )); then
    echo "build-pgo: training run '$*' failed (exit $status); fix it or remove it from the training set" >&2
    exit 1
  fi
}
for scenario in scenarios/*.toml; do
  train_run "$scenario"
done
train_run benches/calm_24h.toml --set scenario.duration_s=21600

echo "build-pgo: 3/5 merging profiles" >&2
"$profdata" merge -o "$profiles/merged.profdata" "$profiles"/*.profraw

echo "build-pgo: 4/5 optimized build" >&2
build pgo "-Cprofile-use=$profiles/merged.profdata"

echo "build-pgo: 5/5 checking the catalogue against its goldens" >&2
"$target/pgo/drydock" check
echo "build-pgo: $target/pgo/drydock is ready" >&2
