# SPDX-License-Identifier: MIT OR Apache-2.0
# source-socket, the socketcap capture connector for Estuary Flow (linux/amd64 only: the Flow
# runtime runs nothing else). Build:  docker build --platform linux/amd64 -t source-socket:local .
# scripts/docker-smoke builds this file unchanged on a machine without an image registry.

FROM debian:bookworm AS build

# Debian's packages, exactly what scripts/bootstrap installs for a build (no wraps: the
# project builds with wrap_mode=nofallback).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ meson ninja-build pkgconf \
      libasio-dev libwolfssl-dev libsimdjson-dev libfmt-dev libyaml-cpp-dev catch2 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# TESTS=enabled also builds and runs the unit/integration suite inside the build stage
# (scripts/docker-smoke does so while the connector is absent). JOBS stays low by default:
# builders often share their cores.
ARG TESTS=disabled
ARG JOBS=2
RUN meson setup /build --buildtype=release -Dtests=${TESTS} -Dtools=enabled -Dtls=enabled \
 && ninja -C /build -j ${JOBS} \
 && if [ "${TESTS}" = enabled ]; then meson test -C /build --print-errorlogs --num-processes ${JOBS}; fi

# The binaries the runtime stage takes. source-socket is required unless the build is told
# otherwise (only while the connector does not exist yet, see scripts/docker-smoke).
ARG REQUIRE_CONNECTOR=1
RUN mkdir -p /out \
 && for tool in source-socket socket-feed; do \
      if [ -x /build/tools/$tool/$tool ]; then cp /build/tools/$tool/$tool /out/; fi; \
    done \
 && if [ "${REQUIRE_CONNECTOR}" = 1 ] && [ ! -x /out/source-socket ]; then \
      echo "tools/source-socket was not built" >&2; exit 1; \
    fi \
 && ls -l /out

FROM debian:bookworm-slim

# Only the shared libraries the binaries link (libstdc++6 is part of the base image).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libwolfssl35 libsimdjson14 libfmt9 libyaml-cpp0.7 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid nonroot --home-dir /connector --no-create-home \
      --shell /usr/sbin/nologin nonroot

WORKDIR /connector
COPY --from=build /out/ /connector/
ENV PATH="/connector:$PATH"

# The Flow runtime requires FLOW_RUNTIME_PROTOCOL; FLOW_RUNTIME_CODEC=json (label and env)
# makes it speak newline-delimited JSON instead of protobuf. CONNECTOR_PROTOCOL is what
# Estuary's own Dockerfiles still write.
LABEL FLOW_RUNTIME_PROTOCOL=capture
LABEL FLOW_RUNTIME_CODEC=json
LABEL CONNECTOR_PROTOCOL=flow-capture
ENV FLOW_RUNTIME_CODEC=json

USER nonroot:nonroot
ENTRYPOINT ["/connector/source-socket"]
