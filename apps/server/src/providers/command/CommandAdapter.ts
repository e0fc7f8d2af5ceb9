// The `command` provider: any CLI agent, from the project's `agentCommand` argv. Each turn runs it
// once in the thread's worktree, in its own process group, with a minimal environment plus
// SPINDLE_MCP_URL and SPINDLE_MCP_TOKEN (the token nowhere else: not in argv, not in logs). Each
// stdout line becomes an agent-message item; exit 0 completes the turn, anything else fails it with
// the output's tail; an interrupt ends the whole group. It cannot take a prompt mid-turn. An agent
// that prints Claude Code's stream-json lines gets them read as items (streamJson.ts), and its next
// turn resumes the session they named (`--resume <id>`), across restarts too.
import {
  type Project,
  type ProviderReport,
  SpindleError,
  type ThreadAttachment,
  type TurnId
} from "@spindle/contracts"
import { shortText } from "@spindle/shared/shortText"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as ChildProcess from "effect/process/ChildProcess"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { LineSplitter } from "../../setup/lineSplitter.ts"
import { agentEnvironment } from "../agentEnvironment.ts"
import type { AdapterSession, ProviderAdapter, SessionContext } from "../ProviderAdapter.ts"
import { newStreamJson, streamJsonLine, withResume } from "./streamJson.ts"

/** Between SIGTERM and SIGKILL when a turn is interrupted. */
const KILL_GRACE = Duration.seconds(2)
/** How much of the output a failed turn's reason quotes. */
const TAIL_LINES = 20

const PLACEHOLDER = "{prompt}"

export const noAgentCommand = (project: Project) =>
  new SpindleError({
    reason: "validation",
    projectId: project.id,
    field: "provider",
    message: `Project ${project.id} has no agent command, so the command provider cannot run there. Set one with 'spindle project update ${project.id} --agent-command "my-agent --print {prompt}"', or use provider codex.`
  })

/** The argv with `{prompt}` filled in; `stdin` when no argument takes the prompt. */
export const agentArgv = (argv: ReadonlyArray<string>, prompt: string) => {
  const takesPrompt = argv.some((arg) => arg.includes(PLACEHOLDER))
  return {
    argv: argv.map((arg) => arg.split(PLACEHOLDER).join(prompt)),
    stdin: takesPrompt ? undefined : prompt
  }
}

interface Running {
  readonly turnId: TurnId
  readonly interrupted: Deferred.Deferred<void>
}

const busy = (context: SessionContext, turnId: TurnId) =>
  new SpindleError({
    reason: "conflict",
    threadId: context.thread.id,
    message: `The command agent is still running a turn; turn ${turnId} waits until it ends or is interrupted.`
  })

export const makeCommandAdapter = (
  spawner: ChildProcessSpawner["Service"],
  serverAgentEnv: Readonly<Record<string, string>> = {}
): ProviderAdapter => ({
  kind: "command",
  check: (project) => (project.agentCommand === null ? noAgentCommand(project) : undefined),
  startSession: (context) =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const argvTemplate = context.project.agentCommand
      if (argvTemplate === null) return yield* noAgentCommand(context.project)
      let running: Running | undefined
      /** The agent's own session (stream-json's session_id), resumed by the next turn. */
      let resumeId = context.resumeCursor ?? undefined

      /** One turn: the process from spawn to its end, reported as items and an ending. */
      const turn = (
        turnId: TurnId,
        prompt: string,
        attachments: ReadonlyArray<ThreadAttachment>,
        interrupted: Deferred.Deferred<void>
      ) =>
        Effect.scoped(
          Effect.gen(function* () {
            const filled = agentArgv(argvTemplate, prompt)
            const stdin = filled.stdin
            const [program, ...args] = withResume(filled.argv, resumeId)
            const json = newStreamJson(turnId, resumeId)
            const handle = yield* spawner
              .spawn(
                ChildProcess.make(program!, args, {
                  cwd: context.worktreePath,
                  env: {
                    ...agentEnvironment(context, process.env, serverAgentEnv),
                    // The command agent reaches Spindle's tools through these (ACP agents get the
                    // token in the protocol instead).
                    SPINDLE_MCP_URL: context.mcp.url,
                    SPINDLE_MCP_TOKEN: Redacted.value(context.mcp.token),
                    // Spindle's copies of the prompt's attachments, one path a line.
                    ...(attachments.length === 0
                      ? {}
                      : { SPINDLE_ATTACHMENTS: attachments.map((a) => a.path).join("\n") })
                  },
                  extendEnv: false,
                  stdin: stdin === undefined ? "ignore" : Stream.succeed(new TextEncoder().encode(stdin)),
                  killSignal: "SIGTERM",
                  forceKillAfter: KILL_GRACE
                })
              )
              .pipe(
                Effect.mapError(
                  (error) =>
                    new SpindleError({
                      reason: "provider",
                      threadId: context.thread.id,
                      message: `Could not start the agent command '${program}' in ${context.worktreePath}: ${error.message}. Check the project's agent command.`
                    })
                )
              )
            yield* context.report({ type: "turn-started", turnId })
            const tail: Array<string> = []
            let line = 0
            const keep = (text: string) => {
              tail.push(text)
              if (tail.length > TAIL_LINES) tail.shift()
            }
            const pump = (source: Stream.Stream<Uint8Array, unknown>, asItems: boolean) => {
              const splitter = new LineSplitter()
              const emit = (lines: ReadonlyArray<string>) =>
                Effect.forEach(
                  lines,
                  (text) => {
                    keep(text)
                    if (!asItems) return Effect.void
                    const mapped = streamJsonLine(json, text)
                    if (mapped !== undefined) return context.report(...mapped)
                    const report: ProviderReport = {
                      type: "turn-item",
                      turnId,
                      phase: "completed",
                      item: { id: `line-${++line}`, kind: "agent-message", text }
                    }
                    return context.report(report)
                  },
                  { discard: true }
                )
              return source.pipe(
                Stream.decodeText,
                Stream.runForEach((chunk) => emit(splitter.push(chunk))),
                Effect.andThen(Effect.suspend(() => emit(splitter.flush()))),
                Effect.ignore
              )
            }
            const pumps = yield* Effect.forkChild(
              Effect.all([pump(handle.stdout, true), pump(handle.stderr, false)], {
                concurrency: "unbounded",
                discard: true
              })
            )
            const outcome = yield* Effect.raceFirst(
              Effect.map(Effect.result(handle.exitCode), (exit) => ({ _tag: "exited" as const, exit })),
              Effect.as(Deferred.await(interrupted), { _tag: "interrupted" as const })
            )
            if (outcome._tag === "interrupted") {
              yield* Effect.ignore(handle.kill({ killSignal: "SIGTERM", forceKillAfter: KILL_GRACE }))
              yield* Fiber.interrupt(pumps)
              return yield* context.report({
                type: "turn-ended",
                turnId,
                status: "interrupted",
                reason: "Interrupted: the agent command's process group was stopped."
              })
            }
            yield* Fiber.await(pumps).pipe(Effect.timeout(KILL_GRACE), Effect.ignore)
            if (json.sessionId !== undefined && json.sessionId !== resumeId) {
              resumeId = json.sessionId
              yield* context.report({
                type: "session-changed",
                status: "running",
                providerSessionId: context.providerSessionId,
                resumeCursor: resumeId,
                error: null
              })
            }
            const code = outcome.exit._tag === "Success" ? outcome.exit.success : null
            if (code === 0) {
              return yield* context.report({ type: "turn-ended", turnId, status: "completed", reason: null })
            }
            // Each of the last lines can be huge: the reason keeps their ends, the log all of them.
            const output = tail.join("\n")
            const quoted = shortText(output, { head: TAIL_LINES, tail: 0 })
            if (quoted !== output)
              yield* Effect.logWarning(`The agent command failed; its last output:\n${output}`)
            yield* context.report({
              type: "turn-ended",
              turnId,
              status: "failed",
              reason: `The agent command ${code === null ? "was killed" : `exited with code ${code}`}.${
                tail.length === 0 ? "" : ` Last output:\n${quoted}`
              }`
            })
          })
        ).pipe(
          Effect.catch((error: SpindleError) =>
            context.report({ type: "turn-ended", turnId, status: "failed", reason: error.message })
          ),
          Effect.ensuring(Effect.sync(() => (running = running?.turnId === turnId ? undefined : running)))
        )

      const session: AdapterSession = {
        resumeCursor: context.resumeCursor,
        startTurn: (turnId, prompt, attachments) =>
          Effect.gen(function* () {
            if (running !== undefined) return yield* busy(context, turnId)
            const interrupted = yield* Deferred.make<void>()
            running = { turnId, interrupted }
            yield* Effect.forkIn(turn(turnId, prompt, attachments, interrupted), scope)
          }),
        steer: (turnId) => Effect.fail(busy(context, turnId)),
        interrupt: (turnId) =>
          running?.turnId === turnId
            ? Effect.asVoid(Deferred.succeed(running.interrupted, undefined))
            : Effect.fail(
                new SpindleError({
                  reason: "conflict",
                  threadId: context.thread.id,
                  message: `The command agent is not running turn ${turnId}.`
                })
              ),
        respond: () =>
          Effect.fail(
            new SpindleError({
              reason: "conflict",
              threadId: context.thread.id,
              message: "The command provider never asks for approvals."
            })
          ),
        ended: Effect.never
      }
      return session
    })
})
