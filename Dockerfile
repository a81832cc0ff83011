# syntax=docker/dockerfile:1
# The app image: the HTTP API (and, with ENGINE=embedded, the TypeScript processor and sink) plus two one-shot
# steps of the compose deployment, `init` (dist/init/scripts/compose-init.js: topics, migrations) and
# `connect-init` (dist/init/scripts/register-connectors.js). Multi-stage: the build stage has the dev dependencies
# and the TypeScript compiler; the runtime stage has only production dependencies and compiled JavaScript, and
# runs as the unprivileged `node` user (uid 1000) of the official Node image.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches/ is applied by the postinstall step (patch-package): a corrected read_committed filter of the Kafka client.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
COPY docker/tsconfig.init.json ./docker/
COPY src ./src
COPY scripts ./scripts
COPY web ./web
# dist/ = the app and dist/web/ the map page (npm run build); dist/init/ = the two compose steps and the src modules they import.
RUN npm run build && npx tsc -p docker/tsconfig.init.json

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# Without install scripts patch-package did not run here: the Kafka client comes patched from the build stage.
COPY --from=build /app/node_modules/@platformatic/kafka ./node_modules/@platformatic/kafka

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
# Root-owned and read-only for the app user: the process writes nothing to disk (logs go to stdout).
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time: migrations/ by the app (DATABASE_MIGRATE) and `init`, connect/ by `connect-init`. ksql/ is not
# in the image: the ksql-init service (the ksqlDB server image) mounts it.
COPY migrations ./migrations
COPY connect ./connect
USER node
EXPOSE 8080
# No curl in the slim image: Node's own fetch probes the liveness endpoint.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
