# The Slipway worker.
#
#   docker build -t slipway-worker .
#   docker run --rm -v "$PWD/config/openverse.yaml:/etc/slipway/slipway.yaml:ro" \
#     -e TEMPORAL_ADDRESS=temporal.example.org:7233 -e GITHUB_TOKEN -e AWS_REGION ... slipway-worker
#
# Stages: `build` installs every dependency, compiles TypeScript to dist/ (tsconfig.build.json)
# and prebuilds the workflow bundle; `prod-deps` installs production dependencies only; the
# final image holds those, dist/ and the bundle, and runs `node dist/worker/main.js` as the
# unprivileged `node` user. The same image carries the CLI: `slipway <command>`.
# No HEALTHCHECK: a Temporal worker serves no port except Prometheus metrics.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY contract contract
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY worker worker
COPY client client
# Compile, then bundle the workflow code once (worker/bundle.ts prints the bundle's path).
RUN npx tsc -p tsconfig.build.json \
 && cp "$(node --import tsx worker/bundle.ts)" dist/workflow-bundle.js \
 && test -s dist/workflow-bundle.js && test -f dist/worker/main.js && test -f dist/client/cli.js

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production \
    SLIPWAY_CONFIG=/etc/slipway/slipway.yaml \
    SLIPWAY_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    SLIPWAY_METRICS_BIND=0.0.0.0:9464
# Memory of a worker holding hundreds of deploys: a small young generation (V8 semi-spaces of
# 2 MiB) and one malloc arena (docs/benchmarks.md, section 5).
ENV NODE_OPTIONS=--max-semi-space-size=2 \
    MALLOC_ARENA_MAX=1
COPY package.json ./
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN printf '#!/bin/sh\nexec node /app/dist/client/cli.js "$@"\n' > /usr/local/bin/slipway \
 && chmod 755 /usr/local/bin/slipway \
 && mkdir -p /etc/slipway
USER node
# Prometheus metrics of the Temporal runtime at /metrics.
EXPOSE 9464
CMD ["node", "dist/worker/main.js"]
