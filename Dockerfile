# SPDX-License-Identifier: MIT OR Apache-2.0
# source-socket, the socketcap capture connector for Estuary Flow (linux/amd64 only: the Flow
# runtime runs nothing else). Build:  docker build --platform linux/amd64 -t source-socket:local .
# scripts/docker-smoke builds this file unchanged on a machine without an image registry.
# The build stage has few steps on purpose: with Docker's vfs storage driver every step copies
# the whole file system (about 40 s each for this stage on 2 vCPUs).

FROM debian:bookworm AS build

# Debian's packages, as scripts/bootstrap installs them (no wraps: wrap_mode=nofallback), except
# wolfSSL: the fast build of Debian's own source package (scripts/build-fast-wolfssl, docs/tls.md:
# AES-NI and AVX2, chosen at run time), linked statically from /opt/socketcap-wolfssl. Its script
# comes in alone, before the sources, so this layer (about 2 minutes of wolfSSL build) is
# rebuilt only when the script or the package list changes. --install-deps adds the deb-src
# entry and dpkg-dev, autoconf, automake, libtool.
COPY scripts/build-fast-wolfssl /usr/local/bin/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ meson ninja-build pkgconf \
      libasio-dev libsimdjson-dev libfmt-dev libre2-dev libhighwayhash-dev libyaml-cpp-dev catch2 \
 && build-fast-wolfssl --install-deps --prefix /opt/socketcap-wolfssl --work /tmp/wolfssl \
 && rm -rf /tmp/wolfssl /var/lib/apt/lists/*

COPY . /src

# TESTS=enabled builds everything and runs the test suite in this stage; otherwise only the
# library and the tools are built (not the benchmarks). JOBS stays low: builders often share
# their cores. REQUIRE_CONNECTOR=0 accepts a tree without tools/source-socket (only
# scripts/docker-smoke uses it, before the connector exists).
ARG TESTS=disabled JOBS=2 REQUIRE_CONNECTOR=1
RUN cd /src \
 && meson setup /build --buildtype=release -Dtests=${TESTS} -Dtools=enabled -Dtls=enabled \
      -Dwolfssl_prefix=/opt/socketcap-wolfssl \
 && if [ "${TESTS}" = enabled ]; then \
      ninja -C /build -j ${JOBS} && meson test -C /build --print-errorlogs --num-processes ${JOBS}; \
    else \
      targets=lib/libsocketcap.a; \
      for tool in source-socket socket-feed; do \
        if [ -f tools/$tool/meson.build ]; then targets="$targets tools/$tool/$tool"; fi; \
      done; \
      ninja -C /build -j ${JOBS} $targets; \
    fi \
 && mkdir -p /out \
 && for tool in source-socket socket-feed; do \
      if [ -x /build/tools/$tool/$tool ]; then cp /build/tools/$tool/$tool /out/; fi; \
    done \
 && if ldd /out/* | grep libwolfssl; then echo "linked the system wolfSSL, not the fast one" >&2; exit 1; fi \
 && if [ "${REQUIRE_CONNECTOR}" = 1 ] && [ ! -x /out/source-socket ]; then \
      echo "tools/source-socket was not built" >&2; exit 1; \
    fi \
 && ls -l /out

FROM debian:bookworm-slim

# Only the shared libraries the binaries link (libstdc++6 is part of the base image; wolfSSL is
# linked statically).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libsimdjson14 libfmt9 libre2-9 libhighwayhash0 libyaml-cpp0.7 ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid nonroot --home-dir /connector --no-create-home \
      --shell /usr/sbin/nologin nonroot

COPY --from=build /out/ /connector/
WORKDIR /connector

# The Flow runtime requires FLOW_RUNTIME_PROTOCOL; FLOW_RUNTIME_CODEC=json (label and env)
# makes it speak newline-delimited JSON instead of protobuf. CONNECTOR_PROTOCOL is what
# Estuary's own Dockerfiles still write. One instruction each for labels and env: fewer steps.
LABEL FLOW_RUNTIME_PROTOCOL=capture \
      FLOW_RUNTIME_CODEC=json \
      CONNECTOR_PROTOCOL=flow-capture
ENV PATH="/connector:$PATH" \
    FLOW_RUNTIME_CODEC=json

USER nonroot:nonroot
ENTRYPOINT ["/connector/source-socket"]
