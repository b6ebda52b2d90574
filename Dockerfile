# apinizer-gitops container image.
#   docker build --build-arg APINIZER_GITOPS_GIT_COMMIT=$(git rev-parse HEAD) -t apinizer-gitops .
#   docker run --rm -e APINIZER_URL -e APINIZER_TOKEN -v "$PWD:/work" apinizer-gitops plan -f connections
#
# Build and final stage are both Debian 12 (bookworm): the binary links glibc
# dynamically (TLS is rustls, no OpenSSL), so it runs on the glibc it was built against.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The commit for `--version` (the build context has no .git).
ARG APINIZER_GITOPS_GIT_COMMIT=""
ENV APINIZER_GITOPS_GIT_COMMIT=${APINIZER_GITOPS_GIT_COMMIT}
# The same build CI runs (.ci/run): cargo build --release --locked.
RUN .ci/build-release.sh && cp target/release/apinizer-gitops /usr/local/bin/

FROM debian:bookworm-slim
# CA certificates: rustls verifies servers against the system's roots.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /work --create-home apinizer
COPY --from=build /usr/local/bin/apinizer-gitops /usr/local/bin/apinizer-gitops
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["apinizer-gitops"]
CMD ["--help"]
