// GET /ws: refuses a missing or bad token with 401 before the upgrade, then serves the Effect RPC
// group over the WebSocket. The Host/Origin guard in http/ runs before this for every request;
// the per-connection send bound lives in the socket class (backpressure.ts).
import type { Socket } from "node:net"
import { decodeClientCommand, decodeClientTokenCreateInput, SpindleRpcs } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Headers from "effect/http/Headers"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as RpcServer from "effect/rpc/RpcServer"
import { ClientTokens } from "../auth/ClientTokens.ts"
import { boardCookieToken, isSameOrigin } from "../board/boardCookie.ts"
import { AuthorizedLayer } from "./authorized.ts"
import { OVERFLOW_CLOSE_CODE, overflowOf } from "./backpressure.ts"
import { tokenFromHeaders } from "./credentials.ts"
import { strictJson } from "./frames.ts"
import { HandlersLayer } from "./handlers.ts"
import { validatingPayloads } from "./payloadValidation.ts"

/**
 * The board's page authenticates with its HttpOnly cookie (browsers send it with the upgrade).
 * Without a bearer token, a cookie counts only from the board's own Origin, and the RPC handlers
 * then see it as the bearer token they check on every call; the cookie header itself is dropped.
 */
const withBoardCookie = (
  request: HttpServerRequest.HttpServerRequest
): HttpServerRequest.HttpServerRequest | "foreign-origin" => {
  if (tokenFromHeaders(request.headers) !== undefined) return request
  const token = boardCookieToken(request.cookies, request.headers.host)
  if (token === undefined) return request
  if (!isSameOrigin(request.headers)) return "foreign-origin"
  const { cookie: _, ...headers } = request.headers
  return request.modify({ headers: Headers.fromInput({ ...headers, authorization: `Bearer ${token}` }) })
}

/** Frames larger than this close the connection with code 1009. */
export const MAX_FRAME_BYTES = 1024 * 1024

export const WsLayer = Layer.unwrap(
  Effect.gen(function* () {
    const { httpEffect, protocol } = yield* RpcServer.makeProtocolWithHttpEffectWebsocket
    const route = HttpRouter.use((router) =>
      Effect.gen(function* () {
        const tokens = yield* ClientTokens
        yield* router.add(
          "GET",
          "/ws",
          Effect.gen(function* () {
            const original = yield* HttpServerRequest.HttpServerRequest
            const request = withBoardCookie(original)
            if (request === "foreign-origin") {
              return HttpServerResponse.jsonUnsafe(
                {
                  reason: "forbidden",
                  message: "The board's cookie is accepted only from the board's own page (its Origin)."
                },
                { status: 403 }
              )
            }
            const refused = yield* tokens.resolve(tokenFromHeaders(request.headers)).pipe(
              Effect.as(undefined),
              Effect.catch((error) =>
                Effect.succeed(
                  HttpServerResponse.jsonUnsafe(
                    { reason: "unauthorized", message: error.message },
                    { status: 401, headers: { "www-authenticate": 'Bearer realm="spindle"' } }
                  )
                )
              )
            )
            if (refused !== undefined) return refused
            const tcp = (request.source as { readonly socket?: Socket }).socket
            // When the connection is over (the handler is interrupted once its socket closes), say
            // so if the server ended it for not reading.
            const logOverflow = Effect.suspend(() => {
              const overflow = tcp === undefined ? undefined : overflowOf(tcp)
              if (overflow === undefined) return Effect.void
              return Effect.logWarning(`Closed a WebSocket client: ${overflow.reason}`).pipe(
                Effect.annotateLogs({ code: OVERFLOW_CLOSE_CODE, queuedBytes: overflow.queuedBytes })
              )
            })
            return yield* Effect.ensuring(httpEffect, logOverflow).pipe(
              Effect.provideService(HttpServerRequest.HttpServerRequest, request)
            )
          })
        )
      })
    )
    // Every call is traced as a span named after its method (`spindle.ws.thread.show`).
    const server = RpcServer.layer(SpindleRpcs, { spanPrefix: "spindle.ws" }).pipe(
      Layer.provide(HandlersLayer),
      Layer.provide(AuthorizedLayer),
      // Bad payloads and unknown methods get a `validation` SpindleError, not the server's defect.
      Layer.provide(
        Layer.succeed(
          RpcServer.Protocol,
          validatingPayloads(SpindleRpcs, protocol, {
            "orchestration.dispatchCommand": { command: decodeClientCommand },
            "token.create": { input: decodeClientTokenCreateInput }
          })
        )
      )
    )
    return Layer.mergeAll(route, server)
  })
  // Frames whose messages are not objects get a protocol answer instead of closing the connection.
).pipe(Layer.provide(Layer.succeed(RpcSerialization.RpcSerialization, strictJson)))
