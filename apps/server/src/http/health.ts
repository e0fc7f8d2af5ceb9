// GET /health: the startup state and version to anyone who may reach the server (a probe needs
// no token); to a request with a valid client token, also the uptime, a failed startup's error
// and the worktrees recovery found orphaned (paths on disk are not for anonymous callers). Never
// waits for anything.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { ClientTokens } from "../auth/ClientTokens.ts"
import { BootstrapRecovery } from "../bootstrap/BootstrapRecovery.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { VERSION } from "../version.ts"

const bearer = (authorization: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1]

export const healthRoute = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const gate = yield* StartupGate
    const recovery = yield* BootstrapRecovery
    const tokens = yield* ClientTokens
    const startedAt = yield* Clock.currentTimeMillis
    yield* router.add(
      "GET",
      "/health",
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const state = yield* gate.state
        const status = state.status === "failed" ? 503 : 200
        const headers = { "cache-control": "no-store" }
        const token = bearer(request.headers.authorization)
        // Any live client token will do (every scope grants `read`); a bad one is no failure of
        // the probe, it only gets the anonymous answer.
        const known =
          token !== undefined &&
          (yield* tokens.resolve(token).pipe(
            Effect.as(true),
            Effect.orElseSucceed(() => false)
          ))
        if (!known)
          return HttpServerResponse.jsonUnsafe(
            { status: state.status, version: VERSION },
            { status, headers }
          )
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
          { status, headers }
        )
      })
    )
  })
)
