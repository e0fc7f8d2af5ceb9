// Wraps the RPC server's protocol so that a request whose payload does not decode, or which names
// no method, is answered with a `validation` SpindleError naming the field, instead of the RPC
// server's defect (which carries no reason and no field). Every other message passes untouched.
// A field with its own decoder (a command, a token request) is checked by it, so its refusal
// reads as it does everywhere else: `Invalid thread.turn.start command: …`, field
// `bootstrap.workspace.branch`.
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

/** Per method, the fields checked by their own decoder instead of the payload's schema. */
export type OwnDecoders = Readonly<
  Record<string, Readonly<Record<string, (value: unknown) => Effect.Effect<unknown, SpindleError>>>>
>

export const validatingPayloads = <R extends Rpc.Any>(
  group: RpcGroup.RpcGroup<R>,
  protocol: Protocol,
  ownDecoders: OwnDecoders = {}
): Protocol => {
  const methods = [...group.requests.keys()]
  const rpcs = group.requests as unknown as ReadonlyMap<string, Rpc.AnyWithProps>
  interface Codec {
    readonly decode: (payload: unknown) => Exit.Exit<unknown, Schema.SchemaError>
    readonly encodeExit: (exit: Exit.Exit<never, SpindleError>) => unknown
    /** Fields with their own decoder, which names their fields from their own root. */
    readonly own: Readonly<Record<string, (value: unknown) => Effect.Effect<unknown, SpindleError>>>
  }
  // Each method's codecs are compiled on its first request, not when the server starts: compiling
  // all of them up front was a noticeable part of `spindle serve`'s startup.
  const codecs = new Map<string, Codec>()
  const codecOf = (tag: string): Codec | undefined => {
    const known = codecs.get(tag)
    if (known !== undefined) return known
    const rpc = rpcs.get(tag)
    if (rpc === undefined) return undefined
    const own = ownDecoders[tag] ?? {}
    const fields = (rpc.payloadSchema as { readonly fields?: Record<string, Schema.Top> }).fields ?? {}
    // The payload's own schema checks everything else; the own decoders' fields take anything here.
    const rest = Schema.Struct(
      Object.fromEntries(
        Object.entries(fields).map(([key, field]) => [key, key in own ? Schema.Unknown : field] as const)
      )
    )
    const codec: Codec = {
      own,
      // Stricter than the server's own decode: a field the method does not take is refused, not dropped.
      decode: Schema.decodeUnknownExit(
        protocol.codecFor(Object.keys(own).length === 0 ? rpc.payloadSchema : rest) as Schema.Codec<
          unknown,
          unknown
        >,
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
      isObject ? Object.fromEntries(entries.filter(([key]) => !Object.hasOwn(codec.own, key))) : payload
    )
    if (unsafe !== undefined) return unsafe
    // A field with its own decoder names its fields from its own root, as that decoder does:
    // `bootstrap.workspace.branch`, not `command.bootstrap.workspace.branch`.
    for (const [key, value] of entries) {
      const inner = Object.hasOwn(codec.own, key) ? findUnsafeInput(value) : undefined
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
  const refusal = (request: RequestEncoded): Effect.Effect<unknown> => {
    const found = refusalOfPayload(request)
    if (found !== undefined) return Effect.succeed(found)
    const codec = codecOf(request.tag)
    if (codec === undefined) return Effect.succeed(undefined)
    const payload = request.payload as Record<string, unknown>
    return Effect.forEach(
      Object.entries(codec.own).filter(([key]) => Object.hasOwn(payload, key)),
      ([key, decode]) => decode(payload[key]),
      { discard: true }
    ).pipe(
      Effect.as(undefined),
      Effect.catch((error) => Effect.succeed(codec.encodeExit(Exit.fail(error))))
    )
  }

  /** The refusal the payload's schema gives, before any field's own decoder runs. */
  const refusalOfPayload = (request: RequestEncoded): unknown => {
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
        const id = message.id
        return Effect.flatMap(refusal(message), (exit) =>
          exit === undefined
            ? handle(clientId, message)
            : protocol.send(clientId, { _tag: "Exit", requestId: id, exit: exit as never })
        )
      })
  }
}
