// Wraps the RPC server's protocol so that a request whose payload does not decode, or which names
// no method, is answered with a `validation` SpindleError naming the field, instead of the RPC
// server's defect (which carries no reason and no field). Every other message passes untouched;
// the handlers still decode their payloads themselves.
import { findUnsafeInput, SpindleError } from "@spindle/contracts"
import { describeIssue } from "@spindle/shared/schemaIssue"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Rpc from "effect/rpc/Rpc"
import type * as RpcGroup from "effect/rpc/RpcGroup"
import type { FromClientEncoded, RequestEncoded } from "effect/rpc/RpcMessage"
import type * as RpcServer from "effect/rpc/RpcServer"
import * as Schema from "effect/Schema"

type Protocol = RpcServer.Protocol["Service"]

const invalid = (message: string, field: string) => new SpindleError({ reason: "validation", message, field })

export const validatingPayloads = <R extends Rpc.Any>(
  group: RpcGroup.RpcGroup<R>,
  protocol: Protocol
): Protocol => {
  const methods = [...group.requests.keys()]
  const rpcs = group.requests as unknown as ReadonlyMap<string, Rpc.AnyWithProps>
  interface Codec {
    readonly decode: (payload: unknown) => Exit.Exit<unknown, Schema.SchemaError>
    readonly encodeExit: (exit: Exit.Exit<never, SpindleError>) => unknown
    /** Fields the payload leaves unknown (`command`): their own decoder checks them and names their fields. */
    readonly opaque: ReadonlySet<string>
  }
  // Each method's codecs are compiled on its first request, not when the server starts: compiling
  // all of them up front was a noticeable part of `spindle serve`'s startup.
  const codecs = new Map<string, Codec>()
  const codecOf = (tag: string): Codec | undefined => {
    const known = codecs.get(tag)
    if (known !== undefined) return known
    const rpc = rpcs.get(tag)
    if (rpc === undefined) return undefined
    const fields = (rpc.payloadSchema as { readonly fields?: Record<string, Schema.Top> }).fields ?? {}
    const codec: Codec = {
      opaque: new Set(Object.keys(fields).filter((key) => fields[key]?.ast._tag === "Unknown")),
      // Stricter than the server's own decode: a field the method does not take is refused, not dropped.
      decode: Schema.decodeUnknownExit(
        protocol.codecFor(rpc.payloadSchema) as Schema.Codec<unknown, unknown>,
        {
          errors: "first",
          onExcessProperty: "error"
        }
      ),
      encodeExit: Schema.encodeSync(
        protocol.codecFor(Rpc.exitSchema(rpc as never)) as Schema.Codec<unknown, unknown>
      )
    }
    codecs.set(tag, codec)
    return codec
  }
  let unknownMethodExit: ((exit: Exit.Exit<never, SpindleError>) => unknown) | undefined
  const encodeUnknownMethodExit = (exit: Exit.Exit<never, SpindleError>) => {
    unknownMethodExit ??= Schema.encodeSync(
      protocol.codecFor(Schema.Exit(Schema.Void, SpindleError, Schema.Defect())) as Schema.Codec<
        unknown,
        unknown
      >
    )
    return unknownMethodExit(exit)
  }

  /** The first problem with a payload as a field and a message (without the field), if any. */
  const problem = (codec: Codec, payload: unknown) => {
    const isObject = payload !== null && typeof payload === "object" && !Array.isArray(payload)
    const entries = isObject ? Object.entries(payload) : []
    const unsafe = findUnsafeInput(
      isObject ? Object.fromEntries(entries.filter(([key]) => !codec.opaque.has(key))) : payload
    )
    if (unsafe !== undefined) return unsafe
    // An opaque field (a command, a token request) names its fields from its own root, as its
    // decoder does: `bootstrap.workspace.branch`, not `command.bootstrap.workspace.branch`.
    for (const [key, value] of entries) {
      const inner = codec.opaque.has(key) ? findUnsafeInput(value) : undefined
      if (inner !== undefined) return inner
    }
    const error = Option.getOrUndefined(Exit.findErrorOption(codec.decode(payload)))
    if (error === undefined) return undefined
    const { field, message } = describeIssue(error.issue)
    // describeIssue puts the field first; the message below names it once.
    return { field, message: field === "" ? message : message.slice(field.length + 2) }
  }

  /** Per-call headers are `[name, value]` string pairs; anything else would kill the connection. */
  const badHeaders = (headers: unknown) =>
    !Array.isArray(headers) ||
    !headers.every(
      (pair) =>
        Array.isArray(pair) && pair.length === 2 && typeof pair[0] === "string" && typeof pair[1] === "string"
    )

  /** The encoded failure to answer `request` with, or undefined when it may go on to the server. */
  const refusal = (request: RequestEncoded): unknown => {
    const codec = typeof request.tag === "string" ? codecOf(request.tag) : undefined
    const encodeExit = codec?.encodeExit ?? encodeUnknownMethodExit
    if (badHeaders(request.headers)) {
      return encodeExit(
        Exit.fail(
          invalid("Invalid request: headers must be a list of [name, value] string pairs.", "headers")
        )
      )
    }
    if (codec === undefined) {
      return encodeExit(
        Exit.fail(
          invalid(
            `Unknown method '${String(request.tag).slice(0, 80)}'. Expected one of: ${methods.join(", ")}.`,
            "tag"
          )
        )
      )
    }
    const found = problem(codec, request.payload)
    if (found === undefined) return undefined
    // A payload that is not an object at all is named as the envelope calls it.
    const field = found.field === "" ? "payload" : found.field
    return encodeExit(Exit.fail(invalid(`Invalid ${request.tag} request: ${field}: ${found.message}`, field)))
  }

  return {
    ...protocol,
    run: (handle) =>
      protocol.run((clientId, message: FromClientEncoded) => {
        if (message._tag !== "Request") return handle(clientId, message)
        // A notification has no reply to carry an error: one with unusable headers is dropped,
        // other bad ones the server drops itself.
        if (message.isNotification === true) {
          return badHeaders(message.headers) ? Effect.void : handle(clientId, message)
        }
        // A request without a usable id cannot be answered by id: the server reports it.
        if (typeof message.id !== "string" && typeof message.id !== "number") return handle(clientId, message)
        const exit = refusal(message)
        return exit === undefined
          ? handle(clientId, message)
          : protocol.send(clientId, {
              _tag: "Exit",
              requestId: message.id,
              exit: exit as never
            })
      })
  }
}
