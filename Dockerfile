# One stage per binary: `docker build --target <binary>`. Each runtime image holds one compiled
# file and nothing else it could read at run time.
FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 aob
USER aob
WORKDIR /home/aob

FROM runtime AS aob
COPY --from=build /src/dist/aob /usr/local/bin/aob
ENTRYPOINT ["aob"]

FROM runtime AS aob-orchestrator
COPY --from=build /src/dist/aob-orchestrator /usr/local/bin/aob-orchestrator
ENTRYPOINT ["aob-orchestrator"]

FROM runtime AS aob-coordinator
COPY --from=build /src/dist/aob-coordinator /usr/local/bin/aob-coordinator
ENTRYPOINT ["aob-coordinator"]

FROM runtime AS aob-builtin-worker
COPY --from=build /src/dist/aob-builtin-worker /usr/local/bin/aob-builtin-worker
ENTRYPOINT ["aob-builtin-worker"]

FROM runtime AS aob-http-worker
COPY --from=build /src/dist/aob-http-worker /usr/local/bin/aob-http-worker
ENTRYPOINT ["aob-http-worker"]

FROM runtime AS aob-hitl-worker
COPY --from=build /src/dist/aob-hitl-worker /usr/local/bin/aob-hitl-worker
ENTRYPOINT ["aob-hitl-worker"]

FROM runtime AS aob-agent-worker
COPY --from=build /src/dist/aob-agent-worker /usr/local/bin/aob-agent-worker
ENTRYPOINT ["aob-agent-worker"]

FROM runtime AS aob-fanout
COPY --from=build /src/dist/aob-fanout /usr/local/bin/aob-fanout
ENTRYPOINT ["aob-fanout"]
