# The percept IoT Edge module image (linux/amd64, linux/arm64). A build stage compiles the
# TypeScript and the native addons; the runtime stage holds only what the agent reads at run
# time: dist/, package.json, the model manifests, the production dependencies and the addons.
#
# BASE is Debian 12 (bookworm) slim with Node.js 20 and npm under /usr/local, e.g.
# node:20-bookworm-slim; scripts/build-image.sh builds one locally when no registry is reachable.
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
# A CA bundle for networks that inspect TLS (npm ci); build stage only, never in the image.
ARG NODE_EXTRA_CA_CERTS
ENV DEBIAN_FRONTEND=noninteractive \
    ONNXRUNTIME_NODE_INSTALL=skip \
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    npm_config_nodedir=/usr/local
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends g++ make python3 pkg-config libtss2-dev ca-certificates >/dev/null
WORKDIR /build
COPY package.json package-lock.json ./
# Install scripts off: onnxruntime-node and sharp ship prebuilt binaries per cpu (and
# onnxruntime's script would fetch CUDA); better-sqlite3 compiles against the image's Node.
# This stage runs on the target platform, so its Node's process.arch (x64, arm64) names the
# onnxruntime binaries to keep; the package carries every platform's.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && (cd node_modules/better-sqlite3 && node ../node-gyp/bin/node-gyp.js rebuild --release)
COPY tsconfig.json ./
COPY src src
COPY native native
COPY scripts/build-native.mjs scripts/
RUN node node_modules/typescript/bin/tsc -p tsconfig.json \
 && node scripts/build-native.mjs --clean \
 && npm prune --omit=dev --no-audit --no-fund \
 && mkdir addons \
 && for d in native/*/build/Release; do a="${d%/build/Release}"; mkdir -p "addons/${a#native/}/build/Release"; cp "$d"/*.node "addons/${a#native/}/build/Release/"; done \
 && arch="$(node -p process.arch)" \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -name "$arch" -exec rm -rf {} + \
 && ls node_modules/onnxruntime-node/bin/*/linux/"$arch"/onnxruntime_binding.node >/dev/null \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj*

FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
# The TPM stack's runtime libraries (tss2-esys and the TCTIs for /dev/tpmrm0) and ffmpeg,
# which reads UVC cameras through V4L2.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libtss2-esys-3.0.2-0 libtss2-tctildr0 libtss2-mu0 libtss2-rc0 \
      libtss2-tcti-device0 ffmpeg ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && (getent group video || groupadd --system video) \
 && (getent group tss || groupadd --system tss) \
 && groupadd --system percept \
 && useradd --system --gid percept --groups video,tss --home-dir /var/lib/percept --no-create-home --shell /usr/sbin/nologin percept \
 && install -d -m 0700 -o percept -g percept /var/lib/percept \
 && printf '#!/bin/sh\nexec node /opt/percept/dist/src/cli.js "$@"\n' > /usr/local/bin/percept \
 && chmod 0755 /usr/local/bin/percept
WORKDIR /opt/percept
COPY --from=build /build/package.json ./
COPY --from=build /build/dist/src dist/src
COPY --from=build /build/node_modules node_modules
COPY --from=build /build/addons native
COPY models models
# onnxruntime-node phones home and writes to /tmp unless this is set before it loads.
ENV NODE_ENV=production \
    ORT_DISABLE_TELEMETRY=1 \
    PERCEPT_STATE_DIR=/var/lib/percept
USER percept
# The outbox, the saved twin and the software signing key outlive the container.
VOLUME /var/lib/percept
# The health check reads the port and address the agent reads (PERCEPT_PREVIEW_PORT, default
# 8090; PERCEPT_PREVIEW_HOST): /healthz is served there even with the preview page disabled.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "const e = process.env, h = e.PERCEPT_PREVIEW_HOST || '127.0.0.1', host = ['0.0.0.0', '::', '[::]'].includes(h) ? '127.0.0.1' : h.includes(':') && !h.startsWith('[') ? '[' + h + ']' : h; fetch('http://' + host + ':' + (e.PERCEPT_PREVIEW_PORT || 8090) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/opt/percept/dist/src/cli.js"]
CMD ["run", "--edge", "--state-dir", "/var/lib/percept"]
