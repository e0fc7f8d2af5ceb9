// Reads the body of a POST to /mcp before the SDK sees it: at most 4 MiB (the SDK's own bound),
// JSON, and one message. A JSON-RPC batch is refused with -32600: MCP 2025-06-18 dropped batches,
// and the SDK would otherwise run every call in one, or answer 202 with nothing for `[]`.
import * as ByteSize from "effect/ByteSize"
import * as Effect from "effect/Effect"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"

export const MAX_MCP_BODY_BYTES = 4 * 1024 * 1024

const refuse = (status: number, code: number, message: string) =>
  HttpServerResponse.jsonUnsafe({ jsonrpc: "2.0", error: { code, message }, id: null }, { status })

/** The parsed message of a POST, `undefined` for other methods, or the answer that refuses it. */
export const readMcpBody = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<
  | { readonly _tag: "Message"; readonly message: unknown }
  | { readonly _tag: "Refused"; readonly response: HttpServerResponse.HttpServerResponse }
  | undefined
> => {
  if (request.method !== "POST") return Effect.succeed(undefined)
  const tooLarge = {
    _tag: "Refused" as const,
    response: refuse(
      413,
      -32000,
      `The request body is over ${MAX_MCP_BODY_BYTES} bytes; send a smaller message.`
    )
  }
  if (Number(request.headers["content-length"] ?? 0) > MAX_MCP_BODY_BYTES) return Effect.succeed(tooLarge)
  return request.text.pipe(
    Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(MAX_MCP_BODY_BYTES)),
    Effect.map((text) => {
      let message: unknown
      try {
        message = JSON.parse(text)
      } catch {
        return {
          _tag: "Refused" as const,
          response: refuse(400, -32700, "Parse error: the body is not JSON. Send one JSON-RPC message.")
        }
      }
      if (Array.isArray(message)) {
        return {
          _tag: "Refused" as const,
          response: refuse(
            400,
            -32600,
            "Invalid Request: JSON-RPC batches are not supported (MCP 2025-06-18 removed them); send one message per request."
          )
        }
      }
      return { _tag: "Message" as const, message }
    }),
    Effect.orElseSucceed(() => tooLarge)
  )
}
