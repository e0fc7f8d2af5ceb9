// The Agent Client Protocol providers (`acp` and its presets: claude, gemini, opencode, codex-acp):
// one agent process per session, in the thread's worktree, driven with the ACP SDK's client side
// over its stdio. `initialize` announces what Spindle really implements (reading and writing text
// files inside the worktree, no terminal); `session/new` (or `session/load` to resume, when the
// agent can) passes Spindle's MCP server as an HTTP server with the session's token in its headers,
// so Spindle hands the token over in the protocol only: never on a command line, in the agent's
// environment or on disk (what the agent does with it is its own: claude-code-acp passes it on to
// the Claude CLI's command line). Each turn is one `session/prompt`; its `session/update`s become turn items (acpItems.ts)
// in the order they came; `session/cancel` interrupts; permission requests become approvals
// (acpApprovals.ts). ACP has no way to add to a running prompt: a prompt sent meanwhile starts the
// next turn once this one ends, and the thread says so.
import type {
  AgentCapabilities,
  McpServer,
  NewSessionResponse,
  RequestPermissionRequest,
  RequestPermissionResponse,
  SessionNotification,
  StopReason
} from "@agentclientprotocol/sdk"
import { SpindleError, type ThreadAttachment, type TurnId } from "@spindle/contracts"
import type * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ChildProcess from "effect/process/ChildProcess"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { ProviderSettings } from "../../config/ServerConfig.ts"
import { VERSION } from "../../version.ts"
import { agentEnvironment } from "../agentEnvironment.ts"
import { resolveBinary } from "../codex/codexSettings.ts"
import type { AdapterSession, ProviderAdapter, SessionContext } from "../ProviderAdapter.ts"
import { followStderr } from "../stderrTail.ts"
import { allowedByMode, approvalKind, CANCELLED, declineEndsTurn, permissionAnswer } from "./acpApprovals.ts"
import { FileRefused, readTextFile, writeTextFile } from "./acpFiles.ts"
import { type AcpTurn, closeTurn, endFor, newAcpTurn, reportsForUpdate } from "./acpItems.ts"
import { type AcpProvider, acpCommand, serverBinScript } from "./acpPresets.ts"

/** How long an agent has to answer `initialize`, `session/new` or `session/load`. */
export const HANDSHAKE_TIMEOUT = Duration.seconds(30)
/** After `session/cancel`, how long the agent has to end its prompt before Spindle ends the turn. */
const CANCEL_GRACE = Duration.seconds(10)
const KILL_GRACE = Duration.seconds(2)
const STDERR_TAIL = 20

type Incoming =
  | { readonly _tag: "update"; readonly params: SessionNotification }
  | {
      readonly _tag: "permission"
      readonly params: RequestPermissionRequest
      readonly answer: (response: RequestPermissionResponse) => void
    }
  | {
      readonly _tag: "end"
      readonly turn: Running
      readonly stop: StopReason | undefined
      readonly error: string | undefined
    }

interface Running {
  readonly turnId: TurnId
  readonly acp: AcpTurn
  cancelled: boolean
  ended: boolean
}

interface Pending {
  readonly turnId: TurnId
  readonly options: RequestPermissionRequest["options"]
  readonly answer: (response: RequestPermissionResponse) => void
}

export const makeAcpAdapter = (
  kind: AcpProvider,
  spawner: ChildProcessSpawner["Service"],
  settings: Pick<ProviderSettings, "agentEnv">
): ProviderAdapter => ({
  kind,
  check: (project) => {
    const command = acpCommand(kind, project)
    return command instanceof SpindleError ? command : undefined
  },
  startSession: (context: SessionContext) =>
    Effect.gen(function* () {
      const { thread, worktreePath } = context
      const failed = (message: string) =>
        new SpindleError({ reason: "provider", threadId: thread.id, message })
      const command = acpCommand(kind, context.project)
      if (command instanceof SpindleError) return yield* command
      const [program, ...args] = command.argv as [string, ...Array<string>]
      const env = agentEnvironment(context, process.env, settings.agentEnv ?? {}, command.preset?.envKeys)
      const binary = resolveBinary(program, env.PATH)
      if (binary === undefined) {
        return yield* failed(
          `The ACP agent '${program}' is not installed or not on PATH${command.preset === undefined ? "" : ` (${command.preset.install})`}. Install it, or point the project at it with 'spindle project update ${context.project.id} --acp-agent "<command>"'.`
        )
      }
      // The preset's own program may run under a script of Spindle's (acpPresets.ts `wrapper`).
      const wrapper = context.project.acpAgent === null ? command.preset?.wrapper : undefined
      const [runs, runArgs] =
        wrapper === undefined
          ? [binary, args]
          : [process.execPath, [serverBinScript(wrapper), binary, ...args]]
      const scope = yield* Effect.scope
      const outgoing = yield* Queue.unbounded<Uint8Array, Cause.Done>()
      const handle = yield* spawner
        .spawn(
          ChildProcess.make(runs, runArgs, {
            cwd: worktreePath,
            env,
            extendEnv: false,
            stdin: Stream.fromQueue(outgoing),
            killSignal: "SIGTERM",
            forceKillAfter: KILL_GRACE
          })
        )
        .pipe(Effect.mapError((error) => failed(`Could not start the ACP agent ${binary}: ${error.message}`)))

      const { done: stderrDone, lastWords } = yield* followStderr(handle.stderr, STDERR_TAIL)
      const ended = yield* Deferred.make<string>()
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          const exit = yield* Effect.result(handle.exitCode)
          yield* Effect.ignore(Effect.timeout(Deferred.await(stderrDone), "1 second"))
          yield* Deferred.succeed(
            ended,
            `The ACP agent ${program} ${exit._tag === "Success" ? `exited with code ${exit.success}` : "was killed"}.${lastWords()}`
          )
        })
      )

      const incoming = yield* Queue.unbounded<Incoming>()
      const { client, ndJsonStream, PROTOCOL_VERSION, RequestError } = yield* Effect.promise(
        () => import("./acpSdk.ts")
      )
      const app = client({ name: "spindle" })
        .onNotification("session/update", ({ params }) => {
          Queue.offerUnsafe(incoming, { _tag: "update", params })
        })
        .onRequest(
          "session/request_permission",
          ({ params }) =>
            new Promise<RequestPermissionResponse>((answer) => {
              Queue.offerUnsafe(incoming, { _tag: "permission", params, answer })
            })
        )
        .onRequest("fs/read_text_file", ({ params }) => {
          try {
            return { content: readTextFile(worktreePath, params.path, params.line, params.limit) }
          } catch (error) {
            throw RequestError.invalidParams(
              undefined,
              error instanceof FileRefused ? error.message : String(error)
            )
          }
        })
        .onRequest("fs/write_text_file", ({ params }) => {
          try {
            writeTextFile(worktreePath, params.path, params.content)
            return {}
          } catch (error) {
            throw RequestError.invalidParams(
              undefined,
              error instanceof FileRefused ? error.message : String(error)
            )
          }
        })
      const writable = new WritableStream<Uint8Array>({
        write: (chunk) => {
          Queue.offerUnsafe(outgoing, chunk)
        },
        close: () => {
          Queue.endUnsafe(outgoing)
        }
      })
      const connection = app.connect(ndJsonStream(writable, Stream.toReadableStream(handle.stdout)))
      // Stopping: the connection closes and the agent's stdin ends, then its exit is awaited briefly.
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          yield* Effect.sync(() => connection.close())
          yield* Queue.end(outgoing)
          yield* Effect.ignore(Effect.timeout(handle.exitCode, "2 seconds"))
        })
      )

      /** A request to the agent; its refusal or its end answered as a provider error. */
      const call = <A>(method: string, send: () => Promise<A>, timeout?: Duration.Duration) => {
        const asked = Effect.tryPromise({
          try: send,
          catch: (error) => error
        }).pipe(
          Effect.raceFirst(Effect.flatMap(Deferred.await(ended), (why) => Effect.fail(new Error(why)))),
          Effect.mapError((error) =>
            failed(
              `The ACP agent ${program} failed ${method}: ${error instanceof Error ? error.message : JSON.stringify(error)}${lastWords()}`
            )
          )
        )
        return timeout === undefined
          ? asked
          : asked.pipe(
              Effect.timeoutOrElse({
                duration: timeout,
                orElse: () =>
                  Effect.fail(
                    failed(
                      `The ACP agent ${program} did not answer ${method} within ${Duration.format(timeout)}: check that '${command.argv.join(" ")}' speaks the Agent Client Protocol on stdio.${lastWords()}`
                    )
                  )
              })
            )
      }

      const agent = connection.agent
      const initialized = yield* call(
        "initialize",
        () =>
          agent.request("initialize", {
            protocolVersion: PROTOCOL_VERSION,
            clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: false },
            clientInfo: { name: "spindle", title: "Spindle", version: VERSION }
          }),
        HANDSHAKE_TIMEOUT
      )
      const capabilities: AgentCapabilities = initialized.agentCapabilities ?? {}
      const token = Redacted.value(context.mcp.token)
      const mcpServers: Array<McpServer> =
        capabilities.mcpCapabilities?.http === true
          ? [
              {
                type: "http",
                name: "spindle",
                url: context.mcp.url,
                headers: [{ name: "Authorization", value: `Bearer ${token}` }]
              }
            ]
          : []
      if (mcpServers.length === 0) {
        yield* context.report({
          type: "warning",
          warning: `The ACP agent ${program} takes no MCP server over HTTP, so it cannot reach Spindle's tools (t3_thread_start and the others) in this thread.`
        })
      }

      // After a restart the agent goes on with its own conversation when it can load it.
      let sessionId: string | undefined
      let modes: ReadonlyArray<string> = []
      if (context.resumeCursor !== null && capabilities.loadSession === true) {
        const cursor = context.resumeCursor
        const loaded = yield* Effect.option(
          call(
            "session/load",
            () => agent.request("session/load", { sessionId: cursor, cwd: worktreePath, mcpServers }),
            HANDSHAKE_TIMEOUT
          ).pipe(
            Effect.tapError((error) =>
              Effect.logWarning(
                `The ACP agent could not load its session; starting a new one: ${error.message}`
              ).pipe(Effect.annotateLogs({ threadId: thread.id }))
            )
          )
        )
        if (loaded._tag === "Some") {
          sessionId = cursor
          modes = ((loaded.value as NewSessionResponse | undefined)?.modes?.availableModes ?? []).map(
            (m) => m.id
          )
        }
      }
      if (sessionId === undefined) {
        const opened = yield* call(
          "session/new",
          () => agent.request("session/new", { cwd: worktreePath, mcpServers }),
          HANDSHAKE_TIMEOUT
        )
        sessionId = opened.sessionId
        modes = (opened.modes?.availableModes ?? []).map((m) => m.id)
      }
      const session = sessionId
      const modeId = command.preset?.modes[thread.runtimeMode]
      if (modeId !== undefined && modes.includes(modeId)) {
        yield* call(
          "session/set_mode",
          () => agent.request("session/set_mode", { sessionId: session, modeId }),
          HANDSHAKE_TIMEOUT
        )
      }

      let current: Running | undefined
      const pending = new Map<string, Pending>()
      let asked = 0
      let queued = 0

      const expire = (turnId: TurnId) => {
        for (const [id, request] of pending) {
          if (request.turnId !== turnId) continue
          pending.delete(id)
          request.answer(CANCELLED)
        }
      }

      const handleIncoming = (message: Incoming) =>
        Effect.gen(function* () {
          switch (message._tag) {
            case "update": {
              const turn = current
              // Outside a turn (a loaded session's history, a late update): nothing to record.
              if (turn === undefined || turn.ended || message.params.sessionId !== session) return
              yield* context.report(...reportsForUpdate(turn.acp, message.params.update))
              return
            }
            case "permission": {
              const turn = current
              if (turn === undefined || turn.ended || turn.cancelled) return message.answer(CANCELLED)
              const request = message.params
              if (allowedByMode(thread.runtimeMode, worktreePath, request)) {
                return message.answer(permissionAnswer(request.options, "accept"))
              }
              const requestId = `${context.providerSessionId}.${++asked}`
              pending.set(requestId, {
                turnId: turn.turnId,
                options: request.options,
                answer: message.answer
              })
              const call = request.toolCall
              const raw = call.rawInput as { command?: unknown } | null | undefined
              yield* context.report({
                type: "approval-requested",
                approval: {
                  requestId,
                  turnId: turn.turnId,
                  kind: approvalKind(request),
                  command: typeof raw?.command === "string" ? raw.command : (call.title ?? null),
                  cwd: worktreePath,
                  reason: call.title ?? null,
                  ...(declineEndsTurn(request.options) ? { declineEndsTurn: true } : {}),
                  requestedAt: DateTime.formatIso(yield* DateTime.now)
                }
              })
              return
            }
            case "end": {
              const turn = message.turn
              if (turn.ended) return
              turn.ended = true
              expire(turn.turnId)
              const end = endFor(message.stop, message.error, turn.cancelled)
              // The turn's last items and its end, recorded together.
              yield* context.report(...closeTurn(turn.acp, end.status), {
                type: "turn-ended",
                turnId: turn.turnId,
                ...end
              })
              if (current === turn) current = undefined
              return
            }
          }
        })
      yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(incoming), handleIncoming)))

      const promptText = (prompt: string, attachments: ReadonlyArray<ThreadAttachment>) => {
        const parts = [
          prompt,
          ...(attachments.length === 0
            ? []
            : [`Attached files:\n${attachments.map((a) => a.path).join("\n")}`])
        ]
        return parts.join("\n\n")
      }

      /** Ends `turn` as failed with why (the agent's last words once its stderr is read, at most 1 s). */
      const failTurn = (turn: Running, error: unknown) =>
        Effect.flatMap(Effect.ignore(Effect.timeout(Deferred.await(stderrDone), "1 second")), () =>
          Queue.offer(incoming, {
            _tag: "end",
            turn,
            stop: undefined,
            error: `The ACP agent ${program} failed the turn: ${error instanceof Error ? error.message : JSON.stringify(error)}${error instanceof Error && error.message.includes("Its last output") ? "" : lastWords()}`
          })
        )
      const runInSession = Effect.runForkWith(yield* Effect.context<never>())
      // An agent that ends mid-turn ends the turn, whether or not its prompt was ever answered.
      yield* Effect.forkScoped(
        Effect.flatMap(Deferred.await(ended), (why) =>
          current === undefined || current.ended ? Effect.void : failTurn(current, new Error(why))
        )
      )

      const busy = (turnId: TurnId) =>
        new SpindleError({
          reason: "conflict",
          threadId: thread.id,
          message: `The agent is still running a turn; turn ${turnId} waits until it ends or is interrupted.`
        })

      const adapterSession: AdapterSession = {
        resumeCursor: session ?? null,
        startTurn: (turnId, prompt, attachments) =>
          Effect.gen(function* () {
            if (current !== undefined && !current.ended) return yield* busy(turnId)
            const turn: Running = { turnId, acp: newAcpTurn(turnId), cancelled: false, ended: false }
            current = turn
            yield* context.report({ type: "turn-started", turnId })
            const text = promptText(prompt, attachments)
            // The answer goes straight to the handler: a turn's end waits for nothing else.
            agent.request("session/prompt", { sessionId: session, prompt: [{ type: "text", text }] }).then(
              (response) =>
                Queue.offerUnsafe(incoming, {
                  _tag: "end",
                  turn,
                  stop: response.stopReason,
                  error: undefined
                }),
              (error: unknown) => void runInSession(failTurn(turn, error))
            )
          }),
        steer: (turnId, prompt, attachments) =>
          Effect.gen(function* () {
            if (current?.turnId === turnId && !current.ended) {
              yield* context.report({
                type: "turn-item",
                turnId,
                phase: "completed",
                item: {
                  id: `queued-${++queued}`,
                  kind: "other",
                  status: "queued",
                  text: `This agent takes no prompt during a turn (ACP has no steering): this one starts its next turn when this one ends.\n${promptText(prompt, attachments)}`
                }
              })
            }
            // Not taken into this turn: the service starts the next turn with it.
            return yield* busy(turnId)
          }),
        interrupt: (turnId) =>
          Effect.gen(function* () {
            const turn = current
            if (turn?.turnId !== turnId || turn.ended) {
              return yield* failed(`The agent is not running turn ${turnId}.`)
            }
            turn.cancelled = true
            expire(turnId)
            yield* Effect.tryPromise(() => agent.notify("session/cancel", { sessionId: session })).pipe(
              Effect.ignore
            )
            // The agent should end its prompt as cancelled; if it does not, the turn ends anyway.
            yield* Effect.forkIn(
              Effect.andThen(
                Effect.sleep(CANCEL_GRACE),
                Queue.offer(incoming, { _tag: "end", turn, stop: undefined, error: undefined })
              ),
              scope
            )
          }),
        respond: (requestId, decision) =>
          Effect.gen(function* () {
            const request = pending.get(requestId)
            if (request === undefined)
              return yield* failed(`The agent is not waiting for an answer to ${requestId}.`)
            pending.delete(requestId)
            request.answer(permissionAnswer(request.options, decision))
          }),
        ended: Deferred.await(ended)
      }
      return adapterSession
    })
})
