// Test wiring for bootstrap tests: the whole core over a temp home, a registered project on a
// real repository, and helpers to send bootstraps and read a thread's events. Not shipped.
import {
  type BootstrapResult,
  CommandId,
  ProjectId,
  type SpindleEvent,
  type ThreadId
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { BootstrapRecovery } from "../bootstrap/BootstrapRecovery.ts"
import { BootstrapTurnStartDispatcher } from "../bootstrap/BootstrapTurnStartDispatcher.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { Commands, type DispatchOptions } from "../commands/Commands.ts"
import type { Limits, ServerSettings } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { Repositories } from "../git/Repositories.ts"
import { Retention } from "../lifecycle/Retention.ts"
import { WorktreeReport } from "../lifecycle/WorktreeReport.ts"
import { CoreLayer } from "../main.ts"
import { BootstrapJournal } from "../persistence/BootstrapJournal.ts"
import { WorktreePool } from "../pool/WorktreePool.ts"
import { readSetupApproval } from "../setup/setupApproval.ts"
import { gitRepo, serverActor, tempHome, testSettings } from "./fixtures.ts"

export interface BootstrapWorld {
  readonly repo: string
  readonly home: string
  readonly commands: Commands["Service"]
  readonly engine: Engine["Service"]
  readonly gate: StartupGate["Service"]
  readonly dispatcher: BootstrapTurnStartDispatcher["Service"]
  readonly recovery: BootstrapRecovery["Service"]
  readonly journal: BootstrapJournal["Service"]
  readonly retention: Retention["Service"]
  readonly report: WorktreeReport["Service"]
  readonly pool: WorktreePool["Service"]
  /** Every service of the core, for the ones not named above. */
  readonly context: Context.Context<never>
  /** Sends a bootstrapped thread.turn.start; `workspace` and the rest override the defaults. */
  readonly bootstrap: (
    threadId: string,
    options?: {
      readonly commandId?: string
      readonly prompt?: string
      readonly workspace?: Record<string, unknown>
      readonly runSetupScript?: boolean
      readonly onSetupFailure?: "stop" | "continue"
      /** false: refuse past a limit instead of queueing. */
      readonly queue?: boolean
      readonly dispatch?: DispatchOptions
    }
  ) => Effect.Effect<BootstrapResult, import("@spindle/contracts").SpindleError>
  /** The types of the thread's events so far, in order. */
  readonly eventTypes: (threadId: string) => Effect.Effect<ReadonlyArray<string>>
  /** Waits (bounded) until the thread has an event of `type`. */
  readonly waitFor: (threadId: string, type: SpindleEvent["type"]) => Effect.Effect<SpindleEvent>
}

export const bootstrapWorld = (
  options: {
    readonly setupScript?: string
    readonly setupTimeoutSeconds?: number
    readonly setupEnv?: Record<string, string>
    readonly limits?: Partial<Limits>
    readonly ready?: boolean
    /** Reopen an earlier world's repository and home (its project is then already there). */
    readonly repo?: string
    readonly home?: string
    readonly settings?: Partial<ServerSettings>
    /** More project.create fields (portCount, retention, worktreePoolSize...). */
    readonly project?: Record<string, unknown>
  } = {}
) =>
  Effect.gen(function* () {
    const repo = options.repo ?? (yield* gitRepo)
    const home = options.home ?? (yield* tempHome)
    const settings = { ...testSettings(home), ...options.settings }
    const context = yield* Layer.build(
      CoreLayer({ ...settings, limits: { ...settings.limits, ...options.limits } })
    )
    const commands = Context.get(context, Commands)
    const engine = Context.get(context, Engine)
    const gate = Context.get(context, StartupGate)
    yield* engine.ready
    // Registered straight through the engine, so a world can also start with its gate closed;
    // with the setup approval `project add` would read (the repository as it is now).
    const registered = (yield* engine.getProject(ProjectId.make("p1"))) !== undefined
    const setupApproval = yield* readSetupApproval(Context.get(context, Repositories), repo, "main").pipe(
      Effect.orDie
    )
    yield* Effect.when(
      engine.dispatch(
        {
          type: "project.create",
          commandId: CommandId.make("register"),
          projectId: ProjectId.make("p1"),
          workspaceRoot: repo,
          defaultBranch: "main",
          setupApproval,
          ...(options.setupScript === undefined ? {} : { setupScript: options.setupScript }),
          ...(options.setupTimeoutSeconds === undefined
            ? {}
            : { setupTimeoutSeconds: options.setupTimeoutSeconds }),
          ...(options.setupEnv === undefined ? {} : { setupEnv: options.setupEnv }),
          ...(options.project as object)
        } as Parameters<typeof engine.dispatch>[0],
        serverActor
      ),
      Effect.succeed(!registered)
    ).pipe(Effect.orDie)
    if (options.ready !== false) yield* gate.markReady
    const eventsOf = (threadId: string) =>
      Effect.gen(function* () {
        const model = yield* engine.readModel
        const all = yield* engine.events(0).pipe(Stream.take(model.sequence), Stream.runCollect, Effect.orDie)
        return Array.from(all).filter((e) =>
          "threadId" in e.payload
            ? e.payload.threadId === threadId
            : "thread" in e.payload && e.payload.thread.id === threadId
        )
      })
    const world: BootstrapWorld = {
      repo,
      home,
      commands,
      engine,
      gate,
      dispatcher: Context.get(context, BootstrapTurnStartDispatcher),
      recovery: Context.get(context, BootstrapRecovery),
      journal: Context.get(context, BootstrapJournal),
      retention: Context.get(context, Retention),
      report: Context.get(context, WorktreeReport),
      pool: Context.get(context, WorktreePool),
      context: context as Context.Context<never>,
      bootstrap: (threadId, o = {}) =>
        commands.dispatch(
          {
            type: "thread.turn.start",
            commandId: o.commandId ?? `start-${threadId}`,
            threadId,
            prompt: o.prompt ?? `work on ${threadId}`,
            bootstrap: {
              createThread: { projectId: "p1" },
              workspace: { mode: "new_worktree", ...o.workspace },
              ...(o.runSetupScript === undefined ? {} : { runSetupScript: o.runSetupScript }),
              ...(o.onSetupFailure === undefined ? {} : { onSetupFailure: o.onSetupFailure }),
              ...(o.queue === undefined ? {} : { queue: o.queue })
            }
          },
          serverActor,
          o.dispatch
        ) as Effect.Effect<BootstrapResult, import("@spindle/contracts").SpindleError>,
      eventTypes: (threadId) => Effect.map(eventsOf(threadId), (events) => events.map((e) => e.type)),
      waitFor: (threadId, type) =>
        engine.events(0).pipe(
          Stream.filter(
            (e) =>
              e.type === type &&
              ("threadId" in e.payload
                ? e.payload.threadId === threadId
                : "thread" in e.payload && e.payload.thread.id === threadId)
          ),
          Stream.take(1),
          Stream.runHead,
          Effect.flatMap((o) =>
            o._tag === "Some" ? Effect.succeed(o.value) : Effect.die(`no ${type} for ${threadId}`)
          ),
          Effect.timeout("20 seconds"),
          Effect.orDie
        )
    }
    return world
  })

export const threadId = (s: string) => s as ThreadId
