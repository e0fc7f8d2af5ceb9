// The one door for client commands, whatever transport they came by: decode and validate,
// resolve what needs the outside world (paths, git: a project's root, default branch and allowed
// submodule URLs), pass the startup gate, then the engine.
import type {
  Actor,
  ArchiveResult,
  BootstrapAwait,
  BootstrapResult,
  ClientCommand,
  CommandId,
  DispatchResult,
  ProjectRemoveResult,
  ProjectUpdateResolved,
  ThreadId
} from "@spindle/contracts"
import { decodeClientCommand, SpindleError } from "@spindle/contracts"
import { isDirectory } from "@spindle/shared/fs"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import { BootstrapTurnStartDispatcher } from "../bootstrap/BootstrapTurnStartDispatcher.ts"
import type { BootstrapParent } from "../bootstrap/bootstrapPlan.ts"
import { SetupRunner } from "../bootstrap/SetupRunner.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { GitCli } from "../git/GitCli.ts"
import { toSpindleError } from "../git/GitError.ts"
import { Repositories } from "../git/Repositories.ts"
import { readSubmodules } from "../git/submodules.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { Hosts } from "../hosts/Hosts.ts"
import { ThreadLifecycle } from "../lifecycle/ThreadLifecycle.ts"
import { BootstrapJournal } from "../persistence/BootstrapJournal.ts"
import { ThreadPorts } from "../ports/ThreadPorts.ts"
import { readSetupApproval } from "../setup/setupApproval.ts"
import { attachmentsBesideBootstrap, sendWithAttachments } from "./followUpAttachments.ts"
import { checkNewProjectRoot } from "./projectRepository.ts"
import { firstTurnAfterSetup } from "./rerunTurn.ts"

export interface DispatchOptions {
  /** For bootstraps: answer once the workspace exists, or (default) once the turn is requested. */
  readonly await?: BootstrapAwait
  /** For bootstraps started by an agent: the thread it runs in. */
  readonly parent?: BootstrapParent
}

export class Commands extends Context.Service<
  Commands,
  {
    /**
     * Validates untrusted input and dispatches it; bad input changes nothing. A bootstrapped
     * `thread.turn.start` answers a BootstrapResult, every other command a DispatchResult.
     */
    readonly dispatch: (
      input: unknown,
      actor: Actor,
      options?: DispatchOptions
    ) => Effect.Effect<DispatchResult | BootstrapResult | ArchiveResult | ProjectRemoveResult, SpindleError>
  }
>()("spindle/commands/Commands") {
  static readonly layer = Layer.effect(
    Commands,
    Effect.gen(function* () {
      const engine = yield* Engine
      const hosts = yield* Hosts
      const gate = yield* StartupGate
      const repositories = yield* Repositories
      const git = yield* GitCli
      const worktrees = yield* Worktrees
      const bootstrapper = yield* BootstrapTurnStartDispatcher
      const setupRunner = yield* SetupRunner
      const lifecycle = yield* ThreadLifecycle
      const ports = yield* ThreadPorts
      const journal = yield* BootstrapJournal
      const { home } = yield* ServerConfig

      /**
       * The submodule URLs a project allows, decided with `initSubmodules` and never taken from
       * the client: on, the URLs of `.gitmodules` as committed on the default branch (read from
       * git's objects); off, none; not given, unchanged.
       */
      const recordSubmodules = <
        C extends { readonly initSubmodules?: boolean; readonly submoduleUrls?: ReadonlyArray<string> }
      >(
        command: C,
        repo: string,
        defaultBranch: string | null | undefined
      ) =>
        Effect.gen(function* () {
          const { submoduleUrls: _ignored, ...rest } = command
          if (command.initSubmodules !== true) {
            return command.initSubmodules === false ? { ...rest, submoduleUrls: [] } : rest
          }
          const branch = defaultBranch ?? (yield* repositories.defaultBranch(repo))
          if (branch === undefined) return { ...rest, submoduleUrls: [] }
          const base = yield* repositories.resolveBase(repo, branch, { branch: true })
          const submodules = yield* readSubmodules(git, repo, base.sha)
          return { ...rest, submoduleUrls: [...new Set(submodules.map((submodule) => submodule.url))] }
        })

      const resolveProjectUpdate = Effect.fn("Commands.resolveProjectUpdate")(
        function* <C extends Omit<Extract<ClientCommand, { type: "project.update" }>, "approveSetup">>(
          command: C
        ) {
          const project = HashMap.get((yield* engine.readModel).projects, command.projectId)
          // An unknown project is the decider's to refuse; nothing is read for it.
          if (project._tag === "None") return command
          const defaultBranch =
            command.defaultBranch === undefined ? project.value.defaultBranch : command.defaultBranch
          return yield* recordSubmodules(command, project.value.workspaceRoot, defaultBranch)
        },
        Effect.catchTag("GitError", (error) => Effect.fail(toSpindleError(error, "initSubmodules")))
      )

      /** A registered project's root is the real path of its repository's top level. */
      const resolveProject = Effect.fn("Commands.resolveProject")(
        function* (command: Extract<ClientCommand, { type: "project.create" }>) {
          const given = command.workspaceRoot
          if (!isDirectory(given)) {
            return yield* new SpindleError({
              reason: "validation",
              field: "workspaceRoot",
              path: given,
              message: `${given} is not an existing directory. Pass the path of a git repository.`
            })
          }
          const workspaceRoot = yield* repositories.root(given)
          const { projects } = yield* engine.readModel
          yield* checkNewProjectRoot(git, worktrees.root, workspaceRoot, HashMap.values(projects))
          const defaultBranch = command.defaultBranch ?? (yield* repositories.defaultBranch(workspaceRoot))
          // The user registering the repository vouches for the setup script it holds now.
          const setupApproval = yield* readSetupApproval(repositories, workspaceRoot, defaultBranch ?? null)
          return yield* recordSubmodules(
            {
              ...command,
              workspaceRoot,
              ...(defaultBranch === undefined ? {} : { defaultBranch }),
              setupApproval
            },
            workspaceRoot,
            defaultBranch
          )
        },
        Effect.catchTag("GitError", (error) => Effect.fail(toSpindleError(error, "workspaceRoot")))
      )

      /**
       * approveSetup, or a new default branch the user names, pins the setup script and the
       * branch's commit as they are now; approveSetup itself is not a setting and goes no further.
       */
      const resolveUpdate = Effect.fn("Commands.resolveUpdate")(
        function* (command: Extract<ClientCommand, { type: "project.update" }>) {
          const { approveSetup, ...rest } = command
          const project = yield* engine.getProject(command.projectId)
          if (project === undefined || (approveSetup !== true && command.defaultBranch === undefined))
            return rest
          const branch = command.defaultBranch === undefined ? project.defaultBranch : command.defaultBranch
          if (approveSetup === true && branch === null) {
            return yield* new SpindleError({
              reason: "validation",
              projectId: project.id,
              field: "approveSetup",
              message: `Project ${project.id} has no default branch, so there is no committed setup script to approve. Set one with --default-branch <name> (that pins its script too).`
            })
          }
          const setupApproval = yield* readSetupApproval(repositories, project.workspaceRoot, branch)
          return { ...rest, setupApproval } satisfies ProjectUpdateResolved
        },
        Effect.catchTag("GitError", (error) => Effect.fail(toSpindleError(error, "approveSetup")))
      )

      /**
       * A thread another host owns is that host's to act on (its worktree, setup and agent are
       * there): refused with `unavailable`, naming the host, and nothing is sent.
       */
      const onThisHost = (threadId: ThreadId, commandId: string) =>
        Effect.gen(function* () {
          const thread = yield* engine.getThread(threadId)
          if (thread === undefined || engine.owns(thread)) return
          const owner = (yield* hosts.list).find((host) => host.id === thread.host)
          const named = owner === undefined ? `host ${thread.host}` : `host ${owner.name} (${owner.id})`
          return yield* new SpindleError({
            reason: "unavailable",
            commandId: commandId as CommandId,
            message:
              owner === undefined || owner.state !== "online"
                ? `Thread ${threadId} runs on ${named}, which is ${owner?.state ?? "unknown to this store"}${owner === undefined ? "" : ` (last heartbeat ${owner.heartbeatAt})`}; nothing was sent. Its threads go on when it is back: retry then.`
                : `Thread ${threadId} runs on ${named} at ${owner.url}; nothing was sent. Send the command to that host.`
          })
        })

      const dispatch = Effect.fn("Commands.dispatch")(function* (
        input: unknown,
        actor: Actor,
        options?: DispatchOptions
      ) {
        const command = yield* decodeClientCommand(input)
        // A project's settings (its setup script, its agents' environment, its webhook and the
        // secret that signs it) are the user's: no transport lets an agent send these, and none may.
        if (actor.kind === "provider-session" && command.type.startsWith("project.")) {
          return yield* new SpindleError({
            reason: "forbidden",
            commandId: command.commandId,
            message: `An agent cannot send ${command.type}: a project's settings are changed by its user (spindle project update).`
          })
        }
        if ("threadId" in command) yield* onThisHost(command.threadId as ThreadId, command.commandId)
        switch (command.type) {
          case "thread.turn.start":
            if (command.bootstrap !== undefined && command.attachments !== undefined)
              return yield* attachmentsBesideBootstrap(command)
            if (command.bootstrap !== undefined) {
              return yield* bootstrapper.dispatch({
                command: { ...command, bootstrap: command.bootstrap },
                actor,
                ...(options?.await === undefined ? {} : { await: options.await }),
                ...(options?.parent === undefined ? {} : { parent: options.parent })
              })
            }
            if (command.attachments !== undefined && command.attachments.length > 0)
              return yield* gate.enqueue(sendWithAttachments(engine, home, command, actor))
            break
          case "thread.setup.rerun":
            return yield* gate.enqueue(
              command.runTurn === true
                ? Effect.flatMap(
                    firstTurnAfterSetup(engine, journal, command.threadId, command.commandId, actor),
                    (startTurn) => setupRunner.rerun(command.threadId, command.commandId, actor, startTurn)
                  )
                : setupRunner.rerun(command.threadId, command.commandId, actor)
            )
          case "project.create":
            // Resolved inside the gate, so it keeps its place in line behind and ahead of other commands.
            return yield* gate.enqueue(
              Effect.flatMap(resolveProject(command), (resolved) => engine.dispatch(resolved, actor))
            )
          case "project.update":
            return yield* gate.enqueue(
              resolveUpdate(command).pipe(
                Effect.flatMap(resolveProjectUpdate),
                Effect.flatMap((resolved) => engine.dispatch(resolved, actor))
              )
            )
          case "thread.archive":
            return yield* gate.enqueue(lifecycle.archive(command, actor))
          case "thread.unarchive":
            return yield* gate.enqueue(lifecycle.unarchive(command, actor))
          case "thread.delete":
            return yield* gate.enqueue(lifecycle.delete(command, actor))
          case "project.remove":
            return yield* gate.enqueue(lifecycle.removeProject(command, actor))
          case "thread.create":
            return yield* gate.enqueue(
              Effect.tap(engine.dispatch(command, actor), () => ports.assign(command.threadId, actor))
            )
        }
        return yield* gate.enqueue(engine.dispatch(command, actor))
      })

      return { dispatch }
    })
  )
}
