# egressguard container image. Build with `make image` (podman, see scripts/image.sh) or any
# OCI builder: docker build -t egressguard .
# The package lists live in scripts/deps.sh (groups image-build and image-run), like the host's.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
COPY scripts/deps.sh /src/scripts/deps.sh
RUN /src/scripts/deps.sh image-build && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The binary target directly: `make all` would also install the test toolchain (clang, cmocka).
RUN make BUILD=build/release build/release/egressguard && \
    install -D -m 0755 build/release/egressguard /out/usr/local/bin/egressguard

FROM ${BASE}
COPY scripts/deps.sh /tmp/deps.sh
RUN /tmp/deps.sh image-run && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/deps.sh
COPY --from=build /out/ /
# Fails the build if a shared library is missing.
RUN ["egressguard", "--help"]
# A numeric user: Kubernetes' runAsNonRoot can only verify a numeric UID.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["egressguard"]
CMD ["--help"]
