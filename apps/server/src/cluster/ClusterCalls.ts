// Calls from this host to another host of the store: a command on a thread the other owns, or a
// start placed there, POSTed to its /cluster/call signed with the cluster secret (no secret, no
// calls: this host runs alone). The answer is the other host's, as its own client would get it.
// A host that stops heartbeating while a call waits ends the call with `unavailable`.
import {
  type Actor,
  CLUSTER_SIGNATURE_HEADER,
  CLUSTER_TIME_HEADER,
  type CommandId,
  CommandResult,
  ForwardedAnswer,
  type ForwardedCall,
  SetupLogItem,
  SpindleError,
  type Thread,
  ThreadDiff,
  type ThreadId,
  type ThreadMergeRequest,
  ThreadMergeResult
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { CurrentHost, ownedBy } from "../config/HostIdentity.ts"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Hosts, type Peer } from "../hosts/Hosts.ts"
import { signCall } from "./clusterSignature.ts"

/** How often a waiting call looks whether the host it waits for is still online. */
const WATCH_MS = 1_000

/** The refusal for work on a host that is not there, naming it and what to do. */
export const hostUnavailable = (
  hostId: string,
  peer: Peer | undefined,
  subject: string,
  commandId?: CommandId
) =>
  new SpindleError({
    reason: "unavailable",
    ...(commandId === undefined ? {} : { commandId }),
    message: `${subject} runs on ${peer === undefined ? `host ${hostId}` : `host ${peer.name} (${peer.id})`}, which is ${peer?.state ?? "unknown to this store"}${peer === undefined ? "" : ` (last heartbeat ${peer.heartbeatAt})`}; nothing was sent. Its threads go on when it is back: retry then.`
  })

const decodeAnswer = Schema.decodeUnknownEffect(ForwardedAnswer)

export class ClusterCalls extends Context.Service<
  ClusterCalls,
  {
    /**
     * The online host that owns `thread` when it is not this one (undefined: it is this host's).
     * A thread whose host is not online is refused with `unavailable`, naming the host; so is one
     * another host handed here (`forwarded`), which is never handed on again.
     */
    readonly elsewhere: (
      thread: Thread | undefined,
      forwarded?: boolean,
      commandId?: CommandId
    ) => Effect.Effect<Peer | undefined, SpindleError>
    /** Hands a command to `peer` and answers what it answered. */
    readonly command: (
      peer: Peer,
      call: Omit<Extract<ForwardedCall, { kind: "command" }>, "from" | "kind">
    ) => Effect.Effect<typeof CommandResult.Type, SpindleError>
    /** The diff of a thread `peer` owns, read there. */
    readonly diff: (peer: Peer, threadId: ThreadId, actor: Actor) => Effect.Effect<ThreadDiff, SpindleError>
    /** The setup log of a thread `peer` owns, streamed from there as it is written. */
    readonly setupLog: (
      peer: Peer,
      threadId: ThreadId,
      actor: Actor
    ) => Stream.Stream<SetupLogItem, SpindleError>
    /** A merge of a thread `peer` owns, made there. */
    readonly merge: (
      peer: Peer,
      request: ThreadMergeRequest,
      actor: Actor
    ) => Effect.Effect<ThreadMergeResult, SpindleError>
  }
>()("spindle/cluster/ClusterCalls") {
  static readonly layer = Layer.effect(
    ClusterCalls,
    Effect.gen(function* () {
      const { clusterSecret } = yield* ServerConfig
      const hosts = yield* Hosts
      const self = yield* CurrentHost

      const from = hosts.self.id
      const lost = (peer: Peer, why: string) =>
        new SpindleError({
          reason: "unavailable",
          message: `Host ${peer.name} (${peer.url}) did not answer: ${why}. The command may or may not have been applied there; send it again with the same commandId (it is applied once).`
        })

      /** Fails once `peer` is no longer online: its answer will not come. */
      const whileOnline = (peer: Peer) =>
        Effect.forever(
          hosts
            .peer(peer.id)
            .pipe(
              Effect.flatMap((now) =>
                now?.state === "online"
                  ? Effect.sleep(`${WATCH_MS} millis`)
                  : Effect.fail(hostUnavailable(peer.id, now, "The command's thread"))
              )
            )
        )

      const noSecret = (peer: Peer) =>
        new SpindleError({
          reason: "unavailable",
          message: `This runs on host ${peer.name} (${peer.url}), and this host has no --cluster-secret-file to reach it with; nothing was sent. Send the command to that host, or start the hosts with the same --cluster-secret-file.`
        })

      /** Sends `call` to `peer`, signed; its response once the headers are in. */
      const send = (peer: Peer, call: ForwardedCall) =>
        Effect.gen(function* () {
          if (clusterSecret === undefined) return yield* noSecret(peer)
          const body = JSON.stringify(call)
          const time = Date.now()
          return yield* Effect.tryPromise({
            try: (signal) =>
              fetch(`${peer.url}/cluster/call`, {
                method: "POST",
                signal,
                headers: {
                  "content-type": "application/json",
                  [CLUSTER_TIME_HEADER]: String(time),
                  [CLUSTER_SIGNATURE_HEADER]: signCall(Redacted.value(clusterSecret), time, body)
                },
                body
              }),
            catch: (error) => lost(peer, (error as Error).cause?.toString() ?? String(error))
          })
        })

      /** A whole (not streamed) answer: the other host's result, or its error. */
      const answerOf = <A>(peer: Peer, response: Response, kind: string, result: Schema.Decoder<A>) =>
        Effect.gen(function* () {
          const text = yield* Effect.tryPromise({
            try: () => response.text(),
            catch: (error) => lost(peer, String(error))
          })
          let parsed: unknown
          try {
            parsed = JSON.parse(text)
          } catch {
            return yield* lost(peer, `it answered HTTP ${response.status} without JSON`)
          }
          if (response.status !== 200) {
            const message = (parsed as { message?: unknown }).message
            return yield* new SpindleError({
              reason: "unavailable",
              message: `Host ${peer.name} (${peer.url}) refused this host's call (HTTP ${response.status}): ${typeof message === "string" ? message : text}`
            })
          }
          const answer = yield* decodeAnswer(parsed).pipe(
            Effect.mapError(() => lost(peer, "its answer was not a Spindle answer"))
          )
          if ("error" in answer) return yield* answer.error
          return yield* Schema.decodeUnknownEffect(result)(answer.ok).pipe(
            Effect.mapError(() => lost(peer, `its answer was not a ${kind}'s result`))
          )
        })

      const forward = <A>(peer: Peer, call: ForwardedCall, result: Schema.Decoder<A>) =>
        Effect.raceFirst(
          Effect.flatMap(send(peer, call), (response) => answerOf(peer, response, call.kind, result)),
          whileOnline(peer)
        ).pipe(Effect.withSpan("ClusterCalls.forward", { attributes: { host: peer.id, kind: call.kind } }))

      const decodeLogItem = Schema.decodeUnknownEffect(Schema.fromJsonString(SetupLogItem))
      const setupLog = (peer: Peer, threadId: ThreadId, actor: Actor) =>
        Stream.unwrap(
          Effect.gen(function* () {
            const response = yield* send(peer, { kind: "setup-log", threadId, actor, from })
            const body = response.body
            if (!(response.headers.get("content-type") ?? "").includes("ndjson") || body === null) {
              return yield* answerOf(peer, response, "setup log", Schema.Unknown).pipe(
                Effect.andThen(Effect.fail(lost(peer, "it answered no setup log")))
              )
            }
            return Stream.fromReadableStream({
              evaluate: () => body,
              onError: (e) => lost(peer, String(e))
            }).pipe(
              Stream.decodeText,
              Stream.splitLines,
              Stream.filter((line) => line !== ""),
              Stream.mapEffect((line) =>
                decodeLogItem(line).pipe(Effect.mapError(() => lost(peer, "a setup log line was not one")))
              )
            )
          })
        )

      const elsewhere = (thread: Thread | undefined, forwarded = false, commandId?: CommandId) =>
        Effect.gen(function* () {
          if (thread === undefined || thread.host === null || ownedBy(self, thread)) return undefined
          const owner = yield* hosts.peer(thread.host)
          if (owner?.state === "online" && !forwarded) return owner
          return yield* owner?.state === "online"
            ? new SpindleError({
                reason: "unavailable",
                ...(commandId === undefined ? {} : { commandId }),
                message: `Thread ${thread.id} runs on host ${owner.name} (${owner.id}), not on this host; nothing was sent.`
              })
            : hostUnavailable(thread.host, owner, `Thread ${thread.id}`, commandId)
        })

      return {
        elsewhere,
        command: (peer, call) => forward(peer, { kind: "command", ...call, from }, CommandResult),
        diff: (peer, threadId, actor) => forward(peer, { kind: "diff", threadId, actor, from }, ThreadDiff),
        setupLog,
        merge: (peer, request, actor) =>
          forward(peer, { kind: "merge", request, actor, from }, ThreadMergeResult)
      }
    })
  )
}
