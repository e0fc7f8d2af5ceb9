// JSON-RPC over newline-delimited JSON, as `codex app-server` speaks it on stdio (messages carry no
// "jsonrpc" field). Matches our requests with their responses, hands notifications and the peer's
// own requests to handlers, and fails what is pending when the stream ends. It knows no methods.
import type * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { LineSplitter } from "../../setup/lineSplitter.ts"

export type RequestId = string | number

export class RpcFailure extends Error {
  override readonly name = "RpcFailure"
  readonly code: number | null
  constructor(message: string, code: number | null) {
    super(message)
    this.code = code
  }
}

export interface IncomingHandlers {
  readonly notification: (method: string, params: unknown) => Effect.Effect<void>
  /** A request from the peer; answer it through `peer`. */
  readonly request: (
    peer: JsonRpcLines,
    id: RequestId,
    method: string,
    params: unknown
  ) => Effect.Effect<void>
}

export interface JsonRpcLines {
  readonly request: (method: string, params: unknown) => Effect.Effect<unknown, RpcFailure>
  readonly notify: (method: string, params?: unknown) => Effect.Effect<void>
  readonly respond: (id: RequestId, result: unknown) => Effect.Effect<void>
  readonly respondError: (id: RequestId, code: number, message: string) => Effect.Effect<void>
  /** Completes when the peer's output ends. */
  readonly closed: Effect.Effect<void>
  /** Ends what we send: the peer sees its stdin close. */
  readonly end: Effect.Effect<void>
}

/** Lines longer than this are dropped rather than buffered (a runaway peer cannot grow memory). */
const MAX_MESSAGE = 16 * 1024 * 1024

export interface JsonRpcConnection {
  readonly peer: JsonRpcLines
  /** What we send: the bytes for the peer's stdin. */
  readonly output: Stream.Stream<Uint8Array>
  /** Starts reading the peer's stdout; until then requests wait for their answers. */
  readonly attach: (input: Stream.Stream<Uint8Array, unknown>) => Effect.Effect<void, never, Scope.Scope>
}

export const makeJsonRpcLines = (handlers: IncomingHandlers): Effect.Effect<JsonRpcConnection> =>
  Effect.gen(function* () {
    const outgoing = yield* Queue.unbounded<Uint8Array, Cause.Done>()
    const pending = new Map<RequestId, Deferred.Deferred<unknown, RpcFailure>>()
    const closed = yield* Deferred.make<void>()
    const encoder = new TextEncoder()
    let nextId = 1

    const send = (message: Record<string, unknown>) =>
      Effect.asVoid(Queue.offer(outgoing, encoder.encode(`${JSON.stringify(message)}\n`)))

    const dispatch = (line: string) =>
      Effect.suspend(() => {
        if (line.trim() === "") return Effect.void
        let message: Record<string, unknown>
        try {
          message = JSON.parse(line)
        } catch {
          return Effect.logDebug("Ignored a line from the agent that is not JSON")
        }
        if (typeof message !== "object" || message === null) return Effect.void
        const { id, method } = message as { id?: RequestId; method?: unknown }
        if (typeof method === "string") {
          return id === undefined
            ? handlers.notification(method, message.params)
            : handlers.request(peer, id, method, message.params)
        }
        if (id === undefined) return Effect.void
        const waiting = pending.get(id)
        if (waiting === undefined) return Effect.void
        pending.delete(id)
        const error = message.error as { code?: number; message?: string } | undefined
        return error === undefined
          ? Deferred.succeed(waiting, message.result)
          : Deferred.fail(waiting, new RpcFailure(error.message ?? "request failed", error.code ?? null))
      })

    const splitter = new LineSplitter(MAX_MESSAGE)
    const attach = (input: Stream.Stream<Uint8Array, unknown>) =>
      Effect.asVoid(
        Effect.forkScoped(
          input.pipe(
            Stream.decodeText,
            Stream.runForEach((chunk) => Effect.forEach(splitter.push(chunk), dispatch, { discard: true })),
            Effect.ignore,
            Effect.ensuring(
              Effect.gen(function* () {
                for (const waiting of pending.values()) {
                  yield* Deferred.fail(waiting, new RpcFailure("the agent's process closed its output", null))
                }
                pending.clear()
                yield* Deferred.succeed(closed, undefined)
              })
            )
          )
        )
      )

    const peer: JsonRpcLines = {
      request: (method, params) =>
        Effect.gen(function* () {
          if (yield* Deferred.isDone(closed)) {
            return yield* Effect.fail(new RpcFailure("the agent's process has exited", null))
          }
          const id = nextId++
          const answer = yield* Deferred.make<unknown, RpcFailure>()
          pending.set(id, answer)
          yield* send({ id, method, params })
          return yield* Deferred.await(answer)
        }),
      notify: (method, params) => send(params === undefined ? { method } : { method, params }),
      respond: (id, result) => send({ id, result }),
      respondError: (id, code, message) => send({ id, error: { code, message } }),
      closed: Deferred.await(closed),
      end: Effect.asVoid(Queue.end(outgoing))
    }
    return { peer, output: Stream.fromQueue(outgoing), attach }
  })
