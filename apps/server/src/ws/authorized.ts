// The one place a WebSocket call is authorized: the token in the call's own headers (a client may
// send one per call, overriding the handshake's) must resolve, and hold the scope the RPC declares
// in the contracts. The handler then sees the caller as `CallingClient`.
import { Authorized, CallingClient, RequiredScope, SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ClientTokens } from "../auth/ClientTokens.ts"
import { tokenFromHeaders } from "./credentials.ts"

/** A failure that is not already a SpindleError (a database error) answers as `internal`. */
export const asWire = (error: unknown): SpindleError =>
  error instanceof SpindleError
    ? error
    : new SpindleError({ reason: "internal", message: "The server failed; see its log. Retry the request." })

export const AuthorizedLayer = Layer.effect(
  Authorized,
  Effect.gen(function* () {
    const tokens = yield* ClientTokens
    return (handler, { rpc, headers }) =>
      Effect.gen(function* () {
        const principal = yield* tokens.resolve(tokenFromHeaders(headers))
        // An RPC that forgot to declare its scope is admin-only rather than open.
        yield* tokens.authorize(
          principal,
          Context.getOrElse(rpc.annotations, RequiredScope, () => "admin")
        )
        return principal
      }).pipe(
        Effect.mapError(asWire),
        Effect.flatMap((principal) =>
          Effect.provideService(handler, CallingClient, { tokenId: principal.tokenId })
        )
      )
  })
)
