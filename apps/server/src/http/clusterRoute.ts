// POST /cluster/call: another host of the store hands this one a call (a command on a thread this
// host owns, a start placed here, a diff or merge of its thread), signed with the cluster secret. A good signature lets the
// call act as the actor the calling host authenticated; the command is validated again here and
// runs through this host's own Commands door, so it is answered as if this host's client sent it.
import {
  CLUSTER_SIGNATURE_HEADER,
  CLUSTER_TIME_HEADER,
  CommandResult,
  ForwardedAnswer,
  ForwardedCall,
  SetupLogItem,
  type SpindleError,
  ThreadDiff,
  type ThreadId,
  ThreadMergeResult
} from "@spindle/contracts"
import * as ByteSize from "effect/ByteSize"
import * as Effect from "effect/Effect"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { ThreadMerge } from "../children/ThreadMerge.ts"
import { ClusterCalls } from "../cluster/ClusterCalls.ts"
import { checkSignature } from "../cluster/clusterSignature.ts"
import { Commands } from "../commands/Commands.ts"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { SetupScripts } from "../setup/SetupScripts.ts"
import { setupLogStream } from "../setup/setupLog.ts"

/** A forwarded command is a client command with its envelope: the same bound as a WebSocket frame. */
const MAX_CALL_BYTES = 8 * 1024 * 1024

const NO_STORE = { "cache-control": "no-store" }

const refuse = (status: number, reason: SpindleError["reason"], message: string) =>
  HttpServerResponse.jsonUnsafe({ reason, message }, { status, headers: NO_STORE })

const encodeAnswer = Schema.encodeUnknownSync(ForwardedAnswer)
const encodeResult = Schema.encodeUnknownSync(CommandResult)
const encodeDiff = Schema.encodeUnknownSync(ThreadDiff)
const encodeMerge = Schema.encodeUnknownSync(ThreadMergeResult)
const encodeLogItem = Schema.encodeUnknownSync(SetupLogItem)
const decodeCall = Schema.decodeUnknownEffect(ForwardedCall)

export const clusterRoute = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const { clusterSecret } = yield* ServerConfig
    const commands = yield* Commands
    const engine = yield* Engine
    const cluster = yield* ClusterCalls
    const watch = yield* ThreadWatch
    const merges = yield* ThreadMerge
    const gate = yield* StartupGate
    const setupScripts = yield* SetupScripts

    /** The thread a read or merge is about, which must be this host's (it is never handed on). */
    const ownThread = (threadId: ThreadId) =>
      Effect.gen(function* () {
        const thread = yield* engine.getThread(threadId)
        if (thread === undefined) return yield* threadNotFound(threadId)
        yield* cluster.elsewhere(thread, true)
        return thread
      })

    /** A whole answer: the result encoded, or the error. */
    const answer = (effect: Effect.Effect<unknown, SpindleError>) =>
      effect.pipe(
        Effect.map((ok): ForwardedAnswer => ({ ok })),
        Effect.catch((error: SpindleError) => Effect.succeed<ForwardedAnswer>({ error })),
        Effect.map((answered) => HttpServerResponse.jsonUnsafe(encodeAnswer(answered), { headers: NO_STORE }))
      )

    /** Runs the call here, as if this host's own client had asked. A setup log streams, a line per item. */
    const respond = (call: ForwardedCall) => {
      switch (call.kind) {
        case "command":
          return answer(
            commands
              .dispatch(call.command, call.actor, {
                ...(call.await === undefined ? {} : { await: call.await }),
                ...(call.parent === undefined ? {} : { parent: call.parent }),
                forwarded: true
              })
              .pipe(Effect.map(encodeResult))
          )
        case "diff":
          return answer(ownThread(call.threadId).pipe(Effect.flatMap(watch.diff), Effect.map(encodeDiff)))
        case "merge":
          return answer(
            ownThread(call.request.threadId).pipe(
              Effect.andThen(gate.enqueue(merges.merge(call.request, call.actor))),
              Effect.map(encodeMerge)
            )
          )
        case "setup-log":
          return ownThread(call.threadId).pipe(
            Effect.map(() =>
              HttpServerResponse.stream(
                setupLogStream(engine, setupScripts, call.threadId).pipe(
                  Stream.map((item) => `${JSON.stringify(encodeLogItem(item))}\n`),
                  Stream.encodeText
                ),
                { contentType: "application/x-ndjson", headers: NO_STORE }
              )
            ),
            Effect.catch((error: SpindleError) => answer(Effect.fail(error)))
          )
      }
    }

    yield* router.add(
      "POST",
      "/cluster/call",
      Effect.gen(function* () {
        if (clusterSecret === undefined) {
          return refuse(
            403,
            "forbidden",
            "This host has no --cluster-secret-file, so it takes no calls from other hosts."
          )
        }
        const request = yield* HttpServerRequest.HttpServerRequest
        if (Number(request.headers["content-length"] ?? 0) > MAX_CALL_BYTES) {
          return refuse(413, "validation", `A call is at most ${MAX_CALL_BYTES} bytes.`)
        }
        const body = yield* request.text.pipe(
          Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(MAX_CALL_BYTES)),
          Effect.orElseSucceed(() => undefined)
        )
        if (body === undefined) return refuse(400, "validation", "The call's body could not be read.")
        const refusal = checkSignature(
          Redacted.value(clusterSecret),
          request.headers[CLUSTER_TIME_HEADER],
          request.headers[CLUSTER_SIGNATURE_HEADER],
          body,
          Date.now()
        )
        if (refusal !== undefined) return refuse(401, "unauthorized", refusal)
        let json: unknown
        try {
          json = JSON.parse(body)
        } catch {
          return refuse(400, "validation", "The call's body is not JSON.")
        }
        const call = yield* decodeCall(json).pipe(Effect.orElseSucceed(() => undefined))
        if (call === undefined) return refuse(400, "validation", "The call is not a ForwardedCall.")
        return yield* respond(call)
      }).pipe(Effect.withSpan("cluster.call"))
    )
  })
)
