# syntax=docker/dockerfile:1
# Multi-stage build: the builder compiles with CGO (mattn/go-sqlite3 needs it);
# the final image holds only the binary on a glibc base (same Debian release as
# the builder, so the dynamic libc matches) and runs as a non-root user.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/fieldsync ./cmd/fieldsync

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 fieldsync \
 && useradd --system --uid 10001 --gid fieldsync --home-dir /var/lib/fieldsync --create-home --shell /usr/sbin/nologin fieldsync
COPY --from=build /out/fieldsync /usr/local/bin/fieldsync
USER 10001:10001
WORKDIR /var/lib/fieldsync
# Without a Postgres URL the server keeps its SQLite file in the volume, and
# creates it (empty, with a loud warning) on the first start.
ENV FIELDSYNC_ADDR=:8080 \
    FIELDSYNC_DATABASE_URL=/var/lib/fieldsync/fieldsync.db \
    FIELDSYNC_CREATE_DB=true
VOLUME ["/var/lib/fieldsync"]
EXPOSE 8080
# `docker run IMAGE` serves; `docker run IMAGE seed --demo` runs another command.
ENTRYPOINT ["fieldsync"]
CMD ["serve"]
