// A typed client of the WebSocket API, for the CLI and the tests: Effect RPC over a WebSocket
// that carries the token in its Authorization header.
import { checkedClient, SpindleRpcs } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as Socket from "effect/socket/Socket"
import WebSocket from "ws"

/**
 * The `ws` package's client: Node's own WebSocket loads its whole HTTP client (undici, with a
 * WebAssembly parser) first, a tenth of a short command's life.
 */
const WsConstructor = Layer.succeed(Socket.WebSocketConstructor)((url, options) =>
  typeof options === "object" && !Array.isArray(options)
    ? new WebSocket(url, options.protocols, { headers: { ...options.headers } })
    : new WebSocket(url, options)
)

export interface Connection {
  /** The server's http(s) base URL, e.g. http://127.0.0.1:5757 */
  readonly url: string
  readonly token: string
}

export const wsUrl = (url: string) => `${url.replace(/^http/, "ws").replace(/\/+$/, "")}/ws`

/** A connected client (commands checked before they are sent); the socket closes with the caller's scope. */
export const makeClient = (connection: Connection) =>
  Effect.gen(function* () {
    // Built into the caller's scope: providing the layer directly would close the socket as
    // soon as the client was made.
    const protocol = yield* Layer.build(
      RpcClient.layerProtocolSocket({ retryTransientErrors: false }).pipe(
        Layer.provide(
          Socket.makeWebSocket(wsUrl(connection.url), {
            headers: { authorization: `Bearer ${connection.token}` },
            openTimeout: "5 seconds"
          }).pipe(Layer.effect(Socket.Socket), Layer.provide(WsConstructor))
        ),
        Layer.provide(RpcSerialization.layerJson)
      )
    )
    return checkedClient(yield* RpcClient.make(SpindleRpcs).pipe(Effect.provideContext(protocol)))
  })

export type SpindleClient = Effect.Success<ReturnType<typeof makeClient>>
