# syntax=docker/dockerfile:1
# sigward's container image. Three stages: compile the TypeScript, install the production
# dependencies into a clean folder, then copy both into a distroless Node 24 runtime that has no
# shell and no package manager, running as a numeric non-root user.
#
#   docker build --build-arg VERSION=0.1.0 -t sigward:0.1.0 .
#
# The bases are build arguments so that a build without access to Docker Hub or gcr.io can give
# stand-ins (scripts/image.sh builds both from Debian's packages and Node 24 from npm): the build
# base needs a shell, node and npm; the runtime base node at /nodejs/bin/node, its libraries, CA
# certificates and the user 65532.
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# Build: all dependencies (TypeScript included), then `npm run build` writes dist/.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency runs code at install time (none of sigward's needs to).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && find dist -name '*.map' -delete

# Production dependencies only, installed from the lockfile into a folder that never saw dev tools.
FROM ${BUILD_IMAGE} AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
# What a runtime never reads goes: source maps, type declarations, TypeScript sources, Markdown,
# and the test folders some packages ship (licences stay).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.ts' -o -name '*.md' \) -delete \
 && find node_modules -mindepth 2 -maxdepth 3 -type d \( -name test -o -name tests -o -name __tests__ \) -prune -exec rm -rf {} +

# Runtime: distroless Node 24 (no shell, no package manager).
FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/sigward/sigward
LABEL org.opencontainers.image.title="sigward" \
      org.opencontainers.image.description="Kubernetes admission controller that admits only images whose cosign signatures verify" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
WORKDIR /app
ENV NODE_ENV=production
COPY --from=production-deps /app/package.json ./package.json
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The public-good trusted root used when none is named (data/PROVENANCE.md).
COPY data ./data
# The same uid and gid as the chart's securityContext (runAsUser 65532): numeric, so the kubelet can
# check runAsNonRoot without reading /etc/passwd.
USER 65532:65532
# 8443: webhook HTTPS (/validate, /mutate, /healthz, /readyz); 9090: Prometheus /metrics.
EXPOSE 8443 9090
# V8 sizes its young generation from the machine's memory (up to 128 MB on a large node) and
# keeps it after collection; 16 MB holds sigward's short-lived per-review garbage and keeps the
# resident size of 10,000 cached images near 200 MB (bench/RESULTS.md, memory).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=16", "/app/dist/cli/main.js"]
CMD ["serve"]
