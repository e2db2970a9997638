#!/usr/bin/env bash
# Builds every function of template.yaml for AWS Lambda (provided.al2023) with
# cargo-lambda: `cargo lambda build --release --arm64` (or --x86-64), one
# workspace build into target/lambda/<function>/bootstrap (under
# $CARGO_TARGET_DIR when set), and prints the size
# of each bootstrap zipped the way `sam deploy` packages it (deflate).
#
#   bash scripts/lambda_build.sh             # arm64, the template's default
#   bash scripts/lambda_build.sh --x86-64    # for Architecture=x86_64
#
# cargo-lambda comes from PyPI (it brings zig, the cross linker) into .venv,
# installed when missing, with .venv/bin/zig linked for `sam build`; the Rust
# target is added with rustup when missing.
# The functions are the template's `BuildProperties: Binary:` entries, so other
# workspace members (the local server, benches) are not built.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

arch_flag="--arm64"
target="aarch64-unknown-linux-gnu"
case "${1:-}" in
    "" | --arm64) ;;
    --x86-64 | --x86_64)
        arch_flag="--x86-64"
        target="x86_64-unknown-linux-gnu"
        ;;
    *)
        echo "usage: $0 [--arm64 | --x86-64]" >&2
        exit 2
        ;;
esac

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
export PATH="$root/.venv/bin:$PATH"
if ! cargo lambda --help >/dev/null 2>&1; then
    echo "== installing cargo-lambda into .venv"
    python -m pip install --quiet --disable-pip-version-check cargo-lambda
fi
# cargo-lambda finds zig through `python3 -m ziglang` or `zig` on PATH; under
# `sam build` the python3 first on PATH may be SAM's own (pyenv, pipx), so put
# the wheel's zig binary on PATH as well.
if ! command -v zig >/dev/null 2>&1; then
    ln -sf "$(python -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')/zig" .venv/bin/zig
fi
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$target"; then
    echo "== rustup target add $target"
    rustup target add "$target"
fi

mapfile -t functions < <(sed -n 's/^ *Binary: *//p' template.yaml)
if [ "${#functions[@]}" -eq 0 ]; then
    echo "no 'Binary:' entries in template.yaml" >&2
    exit 1
fi
packages=()
for f in "${functions[@]}"; do packages+=(--package "$f"); done

echo "== cargo lambda build --release $arch_flag ${packages[*]}"
start=$(date +%s)
cargo lambda build --release "$arch_flag" --locked "${packages[@]}"
elapsed=$(($(date +%s) - start))

python - "$elapsed" "${CARGO_TARGET_DIR:-target}/lambda" "${functions[@]}" <<'EOF'
import io
import os
import sys
import zipfile

elapsed, lambda_dir, functions = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
print(f"\nbuilt in {elapsed // 60} min {elapsed % 60} s\n")
print(f"| {'function':<28} | {'bootstrap':>11} | {'zipped':>11} |")
print(f"|{'-' * 30}|{'-' * 12}:|{'-' * 12}:|")
missing = []
for f in functions:
    path = os.path.join(lambda_dir, f, "bootstrap")
    if not os.path.exists(path):
        missing.append(path)
        continue
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16  # executable, as Lambda needs
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as fh:
            z.writestr(info, fh.read())
    raw, zipped = os.path.getsize(path), len(buf.getvalue())
    print(f"| {f:<28} | {raw / 2**20:>7.2f} MiB | {zipped / 2**20:>7.2f} MiB |")
if missing:
    sys.exit("missing: " + ", ".join(missing))
EOF
