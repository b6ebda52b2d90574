#!/bin/sh
# The release build, shared by the Dockerfile and .ci/run so CI builds the binary with
# exactly the image's flags. Prints the binary's path.
set -eu
cargo build --release --locked --bin apinizer-gitops
echo "${CARGO_TARGET_DIR:-target}/release/apinizer-gitops"
