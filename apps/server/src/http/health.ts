// GET /health: the startup state, version, uptime and the worktrees recovery found orphaned.
// Never waits for anything.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { BootstrapRecovery } from "../orchestration/BootstrapRecovery.ts"
import { StartupGate } from "../orchestration/StartupGate.ts"
import { VERSION } from "../version.ts"

export const healthRoute = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const gate = yield* StartupGate
    const recovery = yield* BootstrapRecovery
    const startedAt = yield* Clock.currentTimeMillis
    yield* router.add(
      "GET",
      "/health",
      Effect.gen(function* () {
        const state = yield* gate.state
        const now = yield* Clock.currentTimeMillis
        return HttpServerResponse.jsonUnsafe(
          {
            status: state.status,
            version: VERSION,
            uptimeMs: now - startedAt,
            orphanedWorktrees: (yield* recovery.report).orphanedWorktrees,
            ...(state.status === "failed"
              ? { error: { reason: state.error.reason, message: state.error.message } }
              : {})
          },
          { status: state.status === "failed" ? 503 : 200, headers: { "cache-control": "no-store" } }
        )
      })
    )
  })
)
