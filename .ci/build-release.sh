#!/bin/sh
# The release build, shared by the Dockerfile and .ci/run so CI builds the binary with
# exactly the image's flags. Prints the binary's absolute path.
set -eu
cargo build --release --locked --bin apinizer-gitops
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target="$PWD/$target" ;; esac
echo "$target/release/apinizer-gitops"
