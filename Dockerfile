# syntax=docker/dockerfile:1
# image: ghcr.io/example/trainingjob:0.1.0 (the tag is package.json's version; manifests/base/kustomization.yaml pins the same)
# docker build -t ghcr.io/example/trainingjob:0.1.0 .

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts off: the only one, the node@24 dev dependency, would fetch a second Node we do not need here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# Only sources that type-check are shipped; then the dev dependencies are dropped.
RUN node node_modules/typescript/bin/tsc --noEmit -p . \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="trainingjob" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
# Package managers are not needed at run time; fewer binaries, less to patch.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
# Files stay owned by root: the app user can read but never rewrite its own code.
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/api ./api
COPY --from=build /src/clock ./clock
COPY --from=build /src/kube ./kube
COPY --from=build /src/policies ./policies
COPY --from=build /src/certs ./certs
COPY --from=build /src/webhook ./webhook
COPY --from=build /src/controller ./controller
COPY --from=build /src/cli ./cli
# Numeric, so runAsNonRoot can verify it; nothing is written outside mounted volumes (read-only root).
USER 65532:65532
# Node 24 runs the TypeScript sources directly (type stripping); the CLI picks the subcommand.
ENTRYPOINT ["node", "/app/bin/trainingjob.js"]
CMD ["--help"]
