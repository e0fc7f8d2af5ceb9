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
import * as Result from "effect/Result"
import { BootstrapTurnStartDispatcher } from "../bootstrap/BootstrapTurnStartDispatcher.ts"
import type { BootstrapParent } from "../bootstrap/bootstrapPlan.ts"
import { SetupRunner } from "../bootstrap/SetupRunner.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { ClusterCalls, hostUnavailable } from "../cluster/ClusterCalls.ts"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { GitCli } from "../git/GitCli.ts"
import { toSpindleError } from "../git/GitError.ts"
import { Repositories } from "../git/Repositories.ts"
import { readSubmodules } from "../git/submodules.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { Hosts } from "../hosts/Hosts.ts"
import { findHost, placeThread } from "../hosts/placement.ts"
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
  /** Handed here by another host of the store: run here or refused, never handed on again. */
  readonly forwarded?: boolean
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
      const cluster = yield* ClusterCalls
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

      /** The real path of the top level of the repository at `given`, which must be a directory. */
      const repositoryAt = (given: string, what: string) =>
        isDirectory(given)
          ? repositories.root(given)
          : Effect.fail(
              new SpindleError({
                reason: "validation",
                field: "workspaceRoot",
                path: given,
                message: `${given} is not an existing directory${what}`
              })
            )

      /** A registered project's root is the real path of its repository's top level. */
      const resolveProject = Effect.fn("Commands.resolveProject")(
        function* (command: Extract<ClientCommand, { type: "project.create" }>) {
          const workspaceRoot = yield* repositoryAt(
            command.workspaceRoot,
            ". Pass the path of a git repository."
          )
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
       * A checkout on this host for a project registered elsewhere: the real path of a clone of the
       * same repository (it holds the commit the project's default branch was approved at, else
       * the default branch), not inside another project or Spindle's worktrees.
       */
      const resolveCheckout = Effect.fn("Commands.resolveCheckout")(
        function* (command: Extract<ClientCommand, { type: "project.checkout.add" }>) {
          const { host: _host, ...rest } = command
          const project = yield* engine.getProject(command.projectId)
          if (project === undefined) return rest
          const workspaceRoot = yield* repositoryAt(
            command.workspaceRoot,
            ` on this host. Pass the path of a clone of project ${project.id}'s repository.`
          )
          const others = [...HashMap.values((yield* engine.readModel).projects)].filter(
            (p) => p.id !== project.id && engine.hasCheckout(p)
          )
          yield* checkNewProjectRoot(git, worktrees.root, workspaceRoot, others)
          const commit = project.setupApproval?.branchCommit ?? null
          const same =
            commit !== null
              ? (yield* git.run(["cat-file", "-e", `${commit}^{commit}`], { cwd: workspaceRoot }))
                  .exitCode === 0
              : project.defaultBranch === null ||
                (yield* repositories.resolveBase(workspaceRoot, project.defaultBranch, { branch: true }).pipe(
                  Effect.as(true),
                  Effect.orElseSucceed(() => false)
                ))
          if (!same) {
            return yield* new SpindleError({
              reason: "validation",
              field: "workspaceRoot",
              path: workspaceRoot,
              projectId: project.id,
              message: `${workspaceRoot} does not hold ${commit === null ? `branch ${project.defaultBranch}` : `commit ${commit} of branch ${project.defaultBranch}`}, so it is not a clone of project ${project.id}'s repository, or it is behind: clone the repository there, or fetch it, and add it again.`
            })
          }
          return { ...rest, workspaceRoot }
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

      /** The host a command on `threadId` must run on when another host owns it (cluster.elsewhere). */
      const ownerElsewhere = (threadId: ThreadId, commandId: string, forwarded: boolean) =>
        Effect.flatMap(engine.getThread(threadId), (thread) =>
          cluster.elsewhere(thread, forwarded, commandId as CommandId)
        )

      /** The online host a command must run on when it is not this one; undefined: run it here. */
      const targetHost = (command: ClientCommand, options: DispatchOptions | undefined) =>
        Effect.gen(function* () {
          const forwarded = options?.forwarded === true
          if (command.type === "thread.turn.start" && command.bootstrap !== undefined) {
            const existing = yield* engine.getThread(command.threadId)
            if (existing !== undefined || forwarded)
              return yield* cluster.elsewhere(existing, forwarded, command.commandId)
            const project = yield* engine.getProject(command.bootstrap.createThread.projectId)
            // An unknown project is the dispatcher's to refuse.
            if (project === undefined) return undefined
            const named = command.bootstrap.createThread.host
            // Only this host's checkout (or none recorded: one host): nothing to choose.
            if (named === undefined && project.checkouts.every((c) => c.host === hosts.self.id))
              return undefined
            const all = yield* hosts.list
            // Not registered (an engine without a server): this host is all there is.
            if (!all.some((host) => host.self)) return undefined
            const parent =
              options?.parent === undefined ? undefined : yield* engine.getThread(options.parent.threadId)
            const placed = placeThread(all, {
              project,
              named,
              parentHost: parent?.host
            })
            if (Result.isFailure(placed)) return yield* placed.failure
            return placed.success.self ? undefined : placed.success
          }
          if ("threadId" in command)
            return yield* ownerElsewhere(command.threadId as ThreadId, command.commandId, forwarded)
          if (command.type === "project.checkout.add" && command.host !== undefined && !forwarded) {
            const found = findHost(yield* hosts.list, command.host)
            if (Result.isFailure(found)) return yield* found.failure
            if (found.success.self) return undefined
            if (found.success.state !== "online")
              return yield* hostUnavailable(found.success.id, found.success, "That checkout")
            return found.success
          }
          // A project's settings read from git (its setup script, its submodules) are read from a
          // checkout: on a host that has one.
          if (command.type === "project.update" && !forwarded) {
            const project = yield* engine.getProject(command.projectId)
            if (project === undefined || engine.hasCheckout(project)) return undefined
            const online = (yield* hosts.list).filter(
              (host) => host.state === "online" && project.checkouts.some((c) => c.host === host.id)
            )
            if (online[0] !== undefined) return online[0]
            return yield* hostUnavailable(
              project.checkouts[0]?.host ?? "",
              undefined,
              `Project ${project.id}'s checkout`
            )
          }
          return undefined
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
        {
          const owner = yield* targetHost(command, options)
          if (owner !== undefined) {
            return yield* cluster.command(owner, {
              command: input,
              actor,
              ...(options?.await === undefined ? {} : { await: options.await }),
              ...(options?.parent === undefined ? {} : { parent: options.parent })
            })
          }
        }
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
          case "project.checkout.add":
            return yield* gate.enqueue(
              Effect.flatMap(resolveCheckout(command), (resolved) => engine.dispatch(resolved, actor))
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
