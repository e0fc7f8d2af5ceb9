// The Codex provider: one `codex app-server` process per session (JSON-RPC lines over stdio), run in
// the thread's worktree with an allowlisted environment, and Spindle's MCP endpoint and this
// session's token in the thread's config (sent over stdin). It starts or resumes the Codex thread,
// starts, steers and interrupts turns (a plan thread's in Codex's plan mode, codexPlanMode.ts),
// maps Codex's notifications to provider reports (its trouble to notices, repeats counted), passes
// approval requests to Spindle and answers back, and says why when Codex stops (its last stderr
// lines).

import { readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { SpindleError, type ThreadAttachment, type TurnId } from "@spindle/contracts"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ChildProcess from "effect/process/ChildProcess"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { ProviderSettings } from "../../config/ServerConfig.ts"
import { portVariables } from "../../setup/setupEnvironment.ts"
import { VERSION } from "../../version.ts"
import { makeNoticeGate } from "../noticeGate.ts"
import type { AdapterSession, ProviderAdapter, SessionContext } from "../ProviderAdapter.ts"
import { followStderr, makeStderrTail } from "../stderrTail.ts"
import { makeApprovalBook } from "./codexApprovals.ts"
import { codexEnvironment, shellPolicyConfig } from "./codexEnvironment.ts"
import { compactMessage, noticeFor } from "./codexNotices.ts"
import { joinPlan, NO_PLAN_MODE, planMode, userInputAnswer, userInputItem } from "./codexPlanMode.ts"
import {
  CodexApprovalRequests,
  type CodexCollaborationMode,
  type CodexNoticeMethod,
  CodexNoticeNotifications,
  CodexNotifications,
  CodexThreadStartResponse,
  CodexTurnStartResponse,
  CodexUserInputRequest
} from "./codexProtocol.ts"
import { reportsFor } from "./codexReports.ts"
import {
  codexArgs,
  codexMissing,
  codexPolicy,
  developerInstructions,
  mcpThreadConfig,
  NO_CODEX_SUBAGENTS,
  resolveBinary
} from "./codexSettings.ts"
import { makeJsonRpcLines, type RpcFailure } from "./jsonRpcLines.ts"

/** How long Codex may take to answer a request (initialize, thread/start, turn/start). */
const REQUEST_TIMEOUT = Duration.seconds(60)
const KILL_GRACE = Duration.seconds(3)
const STDERR_TAIL = 20
/**
 * How long a request that failed because Codex stopped waits for its exit and the rest of its
 * stderr (they can come after its stdout closed), to say why.
 */
const LAST_WORDS_WAIT = Duration.seconds(3)
/** How much of an attached text file goes into the prompt. */
const MAX_INLINE_TEXT = 256 * 1024

/** CODEX_HOME's config.toml, for the names of its model providers' keys; "" when there is none. */
const readConfigToml = (env: Readonly<Record<string, string | undefined>>) => {
  try {
    return readFileSync(join(env.CODEX_HOME ?? join(env.HOME ?? homedir(), ".codex"), "config.toml"), "utf8")
  } catch {
    return ""
  }
}

/** Node names a signal death only inside the message of the exit failure's cause. */
const signalIn = (error: { readonly message: string; readonly reason?: { readonly cause?: unknown } }) => {
  const cause = error.reason?.cause
  const signal = /signal: '(\w+)'/.exec(cause instanceof Error ? cause.message : error.message)?.[1]
  return signal === undefined ? "" : ` by ${signal}`
}

interface CurrentTurn {
  readonly turnId: TurnId
  codexTurnId: string | null
  /** Plan mode's proposed plan, until the message it goes back into (codexPlanMode.ts). */
  plan?: string | undefined
}

export const makeCodexAdapter = (
  spawner: ChildProcessSpawner["Service"],
  settings: ProviderSettings
): ProviderAdapter => ({
  kind: "codex",
  // Codex takes any model its configured provider serves (a local model, a proxy): only the name's
  // shape is checked, by the contracts.
  check: () => undefined,
  startSession: (context: SessionContext) =>
    Effect.gen(function* () {
      const { thread, project } = context
      const failed = (message: string) =>
        new SpindleError({ reason: "provider", threadId: thread.id, message })
      const bin = project.codexBin ?? settings.codexBin
      const binary = resolveBinary(bin, process.env.PATH)
      if (binary === undefined) return yield* codexMissing(thread.id, bin)
      const policy = codexPolicy(thread.runtimeMode)
      const serverEnv =
        settings.codexHome === undefined ? process.env : { ...process.env, CODEX_HOME: settings.codexHome }
      const environment = {
        serverEnv,
        configToml: readConfigToml(serverEnv),
        codexConfig: [...settings.codexConfig, ...project.codexConfig],
        serverAgentEnv: settings.agentEnv ?? {},
        projectAgentEnv: project.agentEnv,
        // The agent's commands (dev servers, tests) use the thread's own ports.
        spindle: portVariables(context.thread.ports)
      }

      let codexThreadId: string | null = null
      let current: CurrentTurn | undefined
      const approvals = makeApprovalBook()
      const stderrTail = makeStderrTail(STDERR_TAIL)
      const notices = makeNoticeGate()

      const decode = <S extends Schema.Top>(schema: S, value: unknown) =>
        Schema.decodeUnknownEffect(schema)(value).pipe(
          Effect.mapError((e) => failed(`Codex answered something unexpected: ${e.message}`))
        )

      /** Codex's word about its trouble, as a notice on the thread (repeats counted) and a log line. */
      const notice = (method: CodexNoticeMethod, params: unknown) =>
        Effect.gen(function* () {
          const decoded = yield* Effect.option(
            Schema.decodeUnknownEffect(CodexNoticeNotifications[method])(params)
          )
          if (decoded._tag === "None")
            return yield* Effect.logDebug(`Ignored a Codex ${method} it could not read`)
          const value = decoded.value as { threadId?: string | null; turnId?: string }
          // One app-server per thread: a notice names our Codex thread, none (the whole process), or,
          // while thread/start runs, the thread being made.
          if (value.threadId != null && codexThreadId !== null && value.threadId !== codexThreadId) return
          const turnId =
            value.turnId === undefined
              ? (current?.turnId ?? null)
              : current !== undefined && value.turnId === current.codexTurnId
                ? current.turnId
                : null
          const said = noticeFor(method, value, turnId)
          const annotations = { threadId: thread.id, codexNotification: method }
          if (said === undefined)
            return yield* Effect.logDebug(`Codex sent ${method}`).pipe(Effect.annotateLogs(annotations))
          const admitted = notices.admit(said)
          const log =
            admitted === undefined
              ? Effect.logDebug
              : said.level === "error"
                ? Effect.logWarning
                : Effect.logInfo
          yield* log(`The agent reports (${said.source}): ${said.message}`).pipe(
            Effect.annotateLogs({
              ...annotations,
              ...(said.willRetry === undefined ? {} : { willRetry: said.willRetry })
            })
          )
          if (admitted !== undefined) yield* context.report({ type: "agent-noticed", notice: admitted })
        })

      const rpc = yield* makeJsonRpcLines({
        notification: (method, params) =>
          Effect.gen(function* () {
            if (method in CodexNoticeNotifications) return yield* notice(method as CodexNoticeMethod, params)
            // Never dropped unseen: what Spindle does not map is still in the debug log.
            if (!(method in CodexNotifications) || current === undefined)
              return yield* Effect.logDebug(
                `Codex sent ${method}${method in CodexNotifications ? " outside a turn" : ", which Spindle does not record"}`
              ).pipe(Effect.annotateLogs({ threadId: thread.id }))
            const known = method as keyof typeof CodexNotifications
            const decoded = yield* Effect.option(
              Schema.decodeUnknownEffect(CodexNotifications[known])(params)
            )
            if (decoded._tag === "None")
              return yield* Effect.logDebug(`Ignored a Codex ${method} it could not read`)
            const value = decoded.value as { threadId: string; turnId?: string; turn?: { id: string } }
            if (value.threadId !== codexThreadId) return
            const codexTurn = value.turnId ?? value.turn?.id
            // Only the turn's start names it (or turn/start's answer, below). Codex also reports on
            // earlier turns: a resumed thread's token usage comes right after thread/resume, and
            // taken as ours it hid every later report of the turn, which then never ended.
            if (current.codexTurnId === null && known === "turn/started" && codexTurn !== undefined)
              current.codexTurnId = codexTurn
            if (codexTurn !== undefined && codexTurn !== current.codexTurnId) return
            const turn = current
            for (const reported of joinPlan(turn, reportsFor(known, value, turn.turnId))) {
              const report = approvals.explain(reported)
              yield* context.report(report)
              if (report.type === "turn-ended" && current === turn) current = undefined
            }
          }),
        request: (peer, id, method, params) =>
          Effect.gen(function* () {
            const turn = current
            if (method === "item/tool/requestUserInput") {
              // Plan mode's questions: shown on the thread, and answered so the model asks in its
              // final message (an error would reach the model as an empty answer).
              const asked = yield* Effect.option(Schema.decodeUnknownEffect(CodexUserInputRequest)(params))
              if (asked._tag === "None")
                return yield* peer.respondError(id, -32602, `Spindle could not read ${method}.`)
              if (turn !== undefined) {
                const item = userInputItem(asked.value)
                yield* context.report({ type: "turn-item", turnId: turn.turnId, phase: "completed", item })
              }
              return yield* peer.respond(id, userInputAnswer(asked.value))
            }
            if (!(method in CodexApprovalRequests) || turn === undefined) {
              return yield* peer.respondError(id, -32601, `Spindle does not handle ${method}.`)
            }
            const kind = method === "item/fileChange/requestApproval" ? "file-change" : "command"
            if (kind === "file-change" && policy.autoAcceptEdits) {
              return yield* peer.respond(id, { decision: "accept" })
            }
            const decoded = yield* Effect.option(
              Schema.decodeUnknownEffect(CodexApprovalRequests[method as keyof typeof CodexApprovalRequests])(
                params
              )
            )
            if (decoded._tag === "None") return yield* peer.respond(id, { decision: "decline" })
            const request = decoded.value as {
              command?: string | null
              cwd?: string | null
              reason?: string | null
              availableDecisions?: ReadonlyArray<unknown> | null
            }
            const requestId = `${context.providerSessionId}.${String(id)}`
            const declining = approvals.wait(requestId, {
              id,
              offered: request.availableDecisions ?? null,
              turnId: turn.turnId,
              command: request.command ?? null
            })
            yield* context.report({
              type: "approval-requested",
              approval: {
                requestId,
                turnId: turn.turnId,
                kind,
                command: request.command ?? null,
                cwd: request.cwd ?? null,
                reason: request.reason ?? null,
                ...declining,
                requestedAt: DateTime.formatIso(yield* DateTime.now)
              }
            })
          })
      })

      const handle = yield* spawner
        .spawn(
          ChildProcess.make(binary, codexArgs(settings, project), {
            cwd: context.worktreePath,
            env: codexEnvironment(environment),
            extendEnv: false,
            stdin: rpc.output,
            killSignal: "SIGTERM",
            forceKillAfter: KILL_GRACE
          })
        )
        .pipe(Effect.mapError((error) => failed(`Could not start ${binary} app-server: ${error.message}`)))
      yield* rpc.attach(handle.stdout)
      // Stopping: Codex exits when its stdin closes, which is quicker than a signal and its grace.
      yield* Effect.addFinalizer(() =>
        Effect.andThen(rpc.peer.end, Effect.ignore(Effect.timeout(handle.exitCode, "2 seconds")))
      )
      const { done: stderrDone } = yield* followStderr(handle.stderr, STDERR_TAIL, stderrTail)
      const ended = yield* Deferred.make<string>()
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          const exit = yield* Effect.result(handle.exitCode)
          // Its last words can come after its exit is seen: the tail is read once stderr ended.
          yield* Effect.ignore(Effect.timeout(Deferred.await(stderrDone), "1 second"))
          const lines = stderrTail.lines()
          const tail = lines.length === 0 ? "" : ` Its last output:\n${lines.join("\n")}`
          yield* Deferred.succeed(
            ended,
            exit._tag === "Success"
              ? `codex app-server exited with code ${exit.success}.${tail}`
              : `codex app-server was killed${signalIn(exit.failure)}.${tail}`
          )
        })
      )

      /** Why Codex stopped, once it has (bounded wait): its exit and its last stderr lines. */
      const whyStopped = Deferred.await(ended).pipe(
        Effect.timeoutOrElse({
          duration: LAST_WORDS_WAIT,
          orElse: () => {
            const lines = stderrTail.lines()
            return Effect.succeed(lines.length === 0 ? "" : `Its last output:\n${lines.join("\n")}`)
          }
        })
      )

      const call = (method: string, params: unknown) =>
        rpc.peer.request(method, params).pipe(
          Effect.timeoutOrElse({
            duration: REQUEST_TIMEOUT,
            orElse: () => {
              const lines = stderrTail.lines()
              return Effect.fail(
                failed(
                  `Codex did not answer ${method} within ${Duration.format(REQUEST_TIMEOUT)}.${lines.length === 0 ? "" : ` Its last output:\n${lines.join("\n")}`}`
                )
              )
            }
          }),
          Effect.catch((error: RpcFailure | SpindleError) =>
            error instanceof SpindleError
              ? Effect.fail(error)
              : error.code === null
                ? // Its output closed: Codex stopped, and what it printed last says why.
                  Effect.flatMap(whyStopped, (why) =>
                    Effect.fail(
                      failed(
                        `Codex stopped before it answered ${method} (${error.message}). ${why}${why === "" ? "" : "\n"}Check Codex's configuration (config.toml in its CODEX_HOME, --codex-config, the project's codexConfig), then send the prompt again.`
                      )
                    )
                  )
                : Effect.fail(failed(`Codex refused ${method}: ${compactMessage(error.message)}`))
          )
        )

      const plan = thread.interactionMode === "plan"
      yield* call("initialize", {
        clientInfo: { name: "spindle", title: "Spindle", version: VERSION },
        // Collaboration modes are experimental in Codex 0.171: only a plan thread opts in.
        ...(plan ? { capabilities: { experimentalApi: true } } : {})
      })
      yield* rpc.peer.notify("initialized")
      const threadParams = {
        cwd: context.worktreePath,
        ...(thread.model === null ? {} : { model: thread.model }),
        approvalPolicy: policy.approvalPolicy,
        sandbox: policy.sandbox,
        developerInstructions: developerInstructions(context.worktreePath, thread.workspace.branch, plan),
        // The runtime mode's settings last: no project override gives a sandboxed agent network.
        config: {
          ...shellPolicyConfig(environment),
          ...mcpThreadConfig(context.mcp.url, Redacted.value(context.mcp.token)),
          ...NO_CODEX_SUBAGENTS,
          ...policy.config
        }
      }
      // After a restart the agent goes on with its own conversation; if Codex lost it, it starts anew.
      const resumed =
        context.resumeCursor === null
          ? undefined
          : yield* Effect.option(
              call("thread/resume", { ...threadParams, threadId: context.resumeCursor }).pipe(
                Effect.tapError((error) =>
                  Effect.logWarning(
                    `Codex could not resume its conversation; starting a new one: ${error.message}`
                  ).pipe(Effect.annotateLogs({ threadId: thread.id, codexThreadId: context.resumeCursor }))
                )
              )
            )
      const opened = resumed?._tag === "Some" ? resumed.value : yield* call("thread/start", threadParams)
      const openedThread = yield* decode(CodexThreadStartResponse, opened)
      codexThreadId = openedThread.thread.id
      let collaborationMode: CodexCollaborationMode | undefined
      if (plan) {
        const listed = yield* Effect.result(call("collaborationMode/list", {}))
        collaborationMode =
          listed._tag === "Success"
            ? planMode(listed.success, openedThread.model ?? thread.model ?? undefined)
            : undefined
        if (collaborationMode === undefined) {
          yield* Effect.logWarning(
            `Codex offers no plan mode; the plan thread's turns run in default mode: ${listed._tag === "Failure" ? listed.failure.message.slice(0, 200) : "no plan preset"}`
          ).pipe(Effect.annotateLogs({ threadId: thread.id }))
          yield* context.report({ type: "warning", warning: NO_PLAN_MODE })
        }
      }

      const needTurn = (turnId: TurnId) =>
        current?.turnId === turnId && current.codexTurnId !== null
          ? Effect.succeed(current.codexTurnId)
          : Effect.fail(failed(`Turn ${turnId} is not running in Codex.`))

      const text = (prompt: string) => [{ type: "text" as const, text: prompt, text_elements: [] }]
      /** Images as local images (Codex reads them); text files written out after the prompt. */
      const withAttachments = (prompt: string, attachments: ReadonlyArray<ThreadAttachment>) => {
        const files = attachments
          .filter((a) => a.kind === "text")
          .map(
            (a) =>
              `\n\n--- attached file ${a.name} (${a.mediaType}) ---\n${readFileSync(a.path, "utf8").slice(0, MAX_INLINE_TEXT)}`
          )
          .join("")
        return [
          ...text(`${prompt}${files}`),
          ...attachments
            .filter((a) => a.kind === "image")
            .map((a) => ({ type: "localImage" as const, path: a.path }))
        ]
      }

      const session: AdapterSession = {
        resumeCursor: codexThreadId,
        startTurn: (turnId, prompt, attachments) =>
          Effect.gen(function* () {
            current = { turnId, codexTurnId: null }
            const answer = yield* call("turn/start", {
              threadId: codexThreadId,
              input: withAttachments(prompt, attachments),
              ...(collaborationMode === undefined ? {} : { collaborationMode })
            }).pipe(Effect.tapError(() => Effect.sync(() => (current = undefined))))
            const started = yield* decode(CodexTurnStartResponse, answer)
            if (current?.turnId === turnId && current.codexTurnId === null)
              current.codexTurnId = started.turn.id
          }),
        steer: (turnId, prompt, attachments) =>
          Effect.flatMap(needTurn(turnId), (expectedTurnId) =>
            call("turn/steer", {
              threadId: codexThreadId,
              expectedTurnId,
              input: withAttachments(prompt, attachments)
            })
          ).pipe(Effect.asVoid),
        interrupt: (turnId) =>
          Effect.flatMap(needTurn(turnId), (codexTurnId) =>
            call("turn/interrupt", { threadId: codexThreadId, turnId: codexTurnId })
          ).pipe(Effect.asVoid),
        respond: (requestId, decision) =>
          Effect.gen(function* () {
            const answer = approvals.answer(requestId, decision)
            if (answer === undefined)
              return yield* failed(`Codex is not waiting for an answer to ${requestId}.`)
            yield* rpc.peer.respond(answer.id, { decision: answer.decision })
          }),
        ended: Deferred.await(ended)
      }
      return session
    })
})
