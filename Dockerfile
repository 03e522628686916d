# syntax=docker/dockerfile:1
# Latchkey production image. Build: docker build -t latchkey .
# Reproducible from package-lock.json (npm ci); the final image has no dev dependencies, no compiler
# and runs as the unprivileged `node` user. Configuration comes from the environment (README,
# "Configuration"); LATCHKEY_ENCRYPTION_KEYS is required because NODE_ENV=production.

ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 is a native addon: node-gyp needs python3, make and g++ when no prebuilt binary fits.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The SDK is a workspace package the CLI uses: npm ci links it from here.
COPY packages/client/package.json ./packages/client/package.json
# --ignore-scripts: `prepare` would build before the sources are here; the addon is built next.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY packages/client/tsconfig.json ./packages/client/tsconfig.json
COPY packages/client/src ./packages/client/src
COPY src ./src
# --omit=optional: oidc-provider serves only the demo of `serve --dev`, which production refuses.
RUN npm run build \
  && npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    LATCHKEY_HOST=0.0.0.0 \
    LATCHKEY_PORT=9099 \
    LATCHKEY_DATA_DIR=/app/data
WORKDIR /app
# Application files stay owned by root (read-only to the process); only data/ is writable, for a
# SQLite file in a single-process setup, and Node's compile cache (data/compile-cache, start-up time).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# node_modules/@latchkey/client links here (the SDK's build, which the CLI imports).
COPY --from=build /app/packages/client/package.json ./packages/client/package.json
COPY --from=build /app/packages/client/dist ./packages/client/dist
COPY bin ./bin
COPY locales ./locales
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 9099
# Node's own fetch: the slim image has no curl. /v1/health/ready answers 200 when the database
# accepts a write (a heartbeat row), 503 when it is stopped, read-only or full.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.LATCHKEY_PORT || 9099) + '/v1/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/latchkey.js", "serve"]
