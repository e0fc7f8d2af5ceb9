// Step 1 of a bootstrap: check everything before any side effect and turn the request into a
// plan the dispatcher carries out (and step 3's workspace from that plan). Reads only (git
// queries, the read model); a bootstrap that fails here has changed nothing on disk or in the
// database. One exception: a start from a thread's present snapshots that thread here (objects
// in the repository's store, no ref), after every refusal of the request itself. Limits and rights are not checked here but by admission, in the single writer.
import {
  type BootstrapRequest,
  type Project,
  SpindleError,
  type Thread,
  type ThreadId,
  type ThreadTurnStart,
  TurnId,
  type WorkspaceMode,
  withoutBidiControls
} from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { randomHex } from "@spindle/shared/random"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import type { TrackedGit } from "../git/GitCli.ts"
import { type GitError, toSpindleError } from "../git/GitError.ts"
import type { Repositories, ResolvedBase } from "../git/Repositories.ts"
import type { PreparedWorktree, Worktrees } from "../git/Worktrees.ts"
import type { WorktreePool } from "../pool/WorktreePool.ts"
import { branchRewrittenWarning } from "../setup/setupApproval.ts"
import { resolveSetupScript } from "../setup/setupSource.ts"
import { type PreparedAttachment, readAttachments } from "./attachments.ts"
import { checkFromThread, snapshotBase, withStartLine } from "./fromThread.ts"

export type BootstrapCommand = typeof ThreadTurnStart.Type & { readonly bootstrap: BootstrapRequest }

/** Who asked, when it was an agent: its thread becomes the parent, its checkout `current_checkout`. */
export interface BootstrapParent {
  readonly threadId: ThreadId
  readonly worktreePath: string | null
}

export type WorkspacePlan =
  | {
      readonly mode: "new_worktree"
      readonly branch: string
      readonly base: ResolvedBase
      readonly initSubmodules: boolean
    }
  | { readonly mode: "existing_worktree"; readonly adopted: PreparedWorktree }
  | { readonly mode: "current_checkout"; readonly path: string; readonly branch: string | null }

export interface BootstrapPlan {
  readonly project: Project
  readonly threadId: ThreadId
  readonly parentThreadId: ThreadId | null
  readonly title: string
  readonly tags: ReadonlyArray<string>
  readonly provider: Thread["provider"]
  readonly model: string | null
  readonly runtimeMode: Thread["runtimeMode"]
  readonly interactionMode: Thread["interactionMode"]
  readonly onDone: Thread["onDone"]
  /** The attempt (best of N) the thread is a variant of, if any. */
  readonly attempt: Thread["attempt"]
  readonly mode: WorkspaceMode
  readonly workspace: WorkspacePlan
  readonly runSetupScript: boolean
  readonly onSetupFailure: "stop" | "continue"
  readonly prompt: string
  readonly turnId: TurnId
  readonly warnings: ReadonlyArray<string>
  /** Read and checked; stored once the thread's workspace exists. */
  readonly attachments: ReadonlyArray<PreparedAttachment>
}

export interface PlanServices {
  readonly repositories: Repositories["Service"]
  readonly worktrees: Worktrees["Service"]
  /** Worktree paths bootstraps in flight are creating (journaled before git makes them). */
  readonly worktreesBeingCreated: Effect.Effect<ReadonlyArray<string>, SpindleError>
  /** Whether the provider can run this project's threads with this model (the provider registry's say). */
  readonly checkProvider: (
    project: Project,
    provider: Thread["provider"],
    model: string | null
  ) => SpindleError | undefined
}

/** The default title: the prompt with whitespace collapsed and bidi controls dropped, cut to 80 characters. */
export const titleFromPrompt = (prompt: string) => {
  const collapsed = withoutBidiControls(prompt).replace(/\s+/g, " ").trim()
  return collapsed.length <= 80 ? collapsed : `${collapsed.slice(0, 79).trimEnd()}…`
}

const gitFailure = (field: string) => (error: GitError) => Effect.fail(toSpindleError(error, field))

const fail = (fields: ConstructorParameters<typeof SpindleError>[0]) => Effect.fail(new SpindleError(fields))

/** An agent asked for setup on files an agent may have written. */
const setupRefused = (project: Project) =>
  fail({
    reason: "forbidden",
    field: "runSetupScript",
    message: `An agent's thread may run the setup script only in a new worktree from the default branch${project.defaultBranch === null ? "" : ` (${project.defaultBranch})`}, since the script runs outside the sandbox on files the agent may have written. Leave runSetupScript out, or ask the user to run 'spindle setup rerun' once they trust the checkout.`
  })

export const planBootstrap = (
  services: PlanServices,
  model: ReadModel,
  command: BootstrapCommand,
  parent: BootstrapParent | undefined,
  fromQueue = false
): Effect.Effect<BootstrapPlan, SpindleError> =>
  Effect.gen(function* () {
    const { bootstrap, threadId } = command
    const request = bootstrap.createThread
    const project = HashMap.get(model.projects, request.projectId).pipe((o) =>
      o._tag === "Some" ? o.value : undefined
    )
    // A check command runs outside the sandbox: only a person may name one.
    if (parent !== undefined && request.attempt !== undefined && request.attempt.check !== null) {
      return yield* fail({
        reason: "forbidden",
        field: "bootstrap.createThread.attempt.check",
        message:
          "An agent may not name a check command for an attempt: it runs outside the sandbox, in every variant's worktree. Start the variants without one, or ask the user to start the attempt with 'spindle thread start --variants N --check CMD'."
      })
    }
    if (project === undefined) {
      return yield* fail({
        reason: "not-found",
        projectId: request.projectId,
        field: "bootstrap.createThread.projectId",
        message: `Project ${request.projectId} does not exist. Register the repository with 'spindle project add <path>' first.`
      })
    }
    const existing = HashMap.get(model.threads, threadId).pipe((o) =>
      o._tag === "Some" ? o.value : undefined
    )
    // The thread exists already when it failed (a restart) or waits in the queue (its start now).
    const restart = existing?.bootstrap.status === "failed" && existing.status === "active"
    const queued = fromQueue && existing?.status === "queued"
    if (existing !== undefined && (!(restart || queued) || existing.projectId !== project.id)) {
      return yield* fail({
        reason: "conflict",
        threadId,
        message: `Thread ${threadId} already exists. Use a new threadId, or start a turn on it without bootstrap.`
      })
    }
    // An agent's child inherits its settings; admission checks it gets no more than the parent has.
    const from =
      parent === undefined ? undefined : Option.getOrUndefined(HashMap.get(model.threads, parent.threadId))
    const provider = request.provider ?? from?.provider ?? project.defaultProvider
    const model_ =
      request.model ?? (request.provider === undefined ? from?.model : undefined) ?? project.defaultModel
    const refused = services.checkProvider(project, provider, model_)
    if (refused !== undefined) return yield* Effect.fail(refused)
    const prompt = command.prompt.trim()
    // An agent attaches files from its own worktree only; a person, any file the server can read.
    const attachments = yield* readAttachments(
      bootstrap.attachments ?? [],
      parent === undefined ? undefined : parent.worktreePath
    )
    const mode = bootstrap.workspace.mode
    const warnings: Array<string> = []
    const repo = project.workspaceRoot
    const { repositories } = services
    // The thread to start from, checked here; its snapshot (objects, no ref) is taken in the
    // workspace's plan below, once the branch is checked; after it only a failing git can stop the plan.
    const fromThread =
      bootstrap.workspace.fromThread === undefined
        ? undefined
        : yield* checkFromThread(
            model,
            project,
            {
              fromThread: bootstrap.workspace.fromThread,
              includeUncommitted: bootstrap.workspace.includeUncommitted === true
            },
            parent,
            prompt
          )
    if (fromThread !== undefined && parent !== undefined && bootstrap.runSetupScript === true) {
      return yield* setupRefused(project)
    }
    let startLine: string | undefined

    const workspace: WorkspacePlan = yield* Effect.gen(function* () {
      switch (mode) {
        case "new_worktree": {
          // Asked only when the base cannot be found, to say why: an empty repository.
          const emptyRepo = Effect.gen(function* () {
            if (yield* repositories.hasCommits(repo)) return
            return yield* fail({
              reason: "validation",
              path: repo,
              message: `The repository ${repo} has no commits yet, so there is nothing to branch from. Make a first commit, then retry.`
            })
          })
          const pr = bootstrap.workspace.pr
          let branch = bootstrap.workspace.branch
          if (branch === undefined) {
            branch =
              pr === undefined ? `spindle/${yield* randomHex(4)}` : `spindle/pr-${pr}-${yield* randomHex(4)}`
          } else {
            yield* repositories.checkBranchName(repo, branch)
            if (yield* repositories.branchExists(repo, branch)) {
              const holder = (yield* repositories.listWorktrees(repo)).find((w) => w.branch === branch)
              return yield* fail({
                reason: "conflict",
                field: "bootstrap.workspace.branch",
                message:
                  holder === undefined
                    ? `Branch ${branch} already exists. Choose another branch name.`
                    : `Branch ${branch} is already checked out in ${holder.path}. Use mode existing_worktree with that path, or choose another branch name.`
              })
            }
          }
          if (fromThread !== undefined) {
            const start = yield* snapshotBase(repositories, project, fromThread, threadId)
            startLine = start.line
            return { mode, branch, base: start.base, initSubmodules: project.initSubmodules } as const
          }
          if (pr !== undefined) {
            // Fetched into FETCH_HEAD only: a failure here leaves nothing behind.
            const base = yield* repositories
              .pullRequest(repo, pr)
              .pipe(Effect.catchTag("GitError", gitFailure("bootstrap.workspace.pr")))
            return { mode, branch, base, initSubmodules: project.initSubmodules } as const
          }
          const baseName =
            bootstrap.workspace.baseBranch ??
            project.defaultBranch ??
            (yield* repositories.defaultBranch(repo))
          if (baseName === undefined) {
            yield* emptyRepo
            return yield* fail({
              reason: "validation",
              field: "bootstrap.workspace.baseBranch",
              message: `Could not tell the default branch of ${repo}. Pass bootstrap.workspace.baseBranch.`
            })
          }
          const base = yield* repositories
            .resolveBase(repo, baseName, {
              fetch: bootstrap.workspace.fetchBase === true,
              branch: bootstrap.workspace.baseBranch === undefined
            })
            .pipe(
              Effect.catchTag("GitError", (error) =>
                Effect.andThen(emptyRepo, gitFailure("bootstrap.workspace.baseBranch")(error))
              )
            )
          warnings.push(...base.warnings)
          return { mode, branch, base, initSubmodules: project.initSubmodules } as const
        }
        case "existing_worktree": {
          const path = bootstrap.workspace.worktreePath
          if (path === undefined) {
            return yield* fail({
              reason: "validation",
              field: "bootstrap.workspace.worktreePath",
              message:
                "Mode existing_worktree needs bootstrap.workspace.worktreePath: the path of a worktree of the project's repository."
            })
          }
          const adopted = yield* services.worktrees
            .adopt(repo, path)
            .pipe(Effect.catchTag("GitError", gitFailure("bootstrap.workspace.worktreePath")))
          // A worktree another bootstrap is still making has no thread bound to it yet; its path
          // was journaled before git made it, so this check cannot come too early.
          if ((yield* services.worktreesBeingCreated).includes(adopted.worktreePath)) {
            return yield* fail({
              reason: "conflict",
              field: "bootstrap.workspace.worktreePath",
              path: adopted.worktreePath,
              message: `${adopted.worktreePath} is being created for another thread. Use another worktree.`
            })
          }
          warnings.push(...adopted.warnings)
          return { mode, adopted } as const
        }
        case "current_checkout": {
          const path = parent?.worktreePath ?? repo
          const status = yield* repositories
            .status(path, undefined, repo)
            .pipe(Effect.catchTag("GitError", gitFailure("bootstrap.workspace")))
          warnings.push(
            `The thread works in the same checkout (${path}) as ${parent === undefined ? "the project" : `thread ${parent.threadId}`}; concurrent writes may conflict.`
          )
          return { mode, path, branch: status.branch } as const
        }
      }
    }).pipe(Effect.catchTag("GitError", gitFailure("bootstrap.workspace")))

    // Setup runs on the host, outside any sandbox, in the new workspace. For an agent's child that
    // workspace must hold only what the user committed on the default branch: a checkout or a base
    // the agent chose may hold files of its own (a package.json, a Makefile) the script would run.
    const agentTree =
      parent !== undefined &&
      (workspace.mode !== "new_worktree" ||
        project.defaultBranch === null ||
        workspace.base.name !== project.defaultBranch)
    let runSetupScript = bootstrap.runSetupScript ?? mode === "new_worktree"
    if (agentTree && runSetupScript) {
      if (bootstrap.runSetupScript === true) return yield* setupRefused(project)
      runSetupScript = false
      warnings.push(
        "Setup was not run: this workspace holds files an agent chose (its checkout or its branch), and the setup script runs outside the sandbox. Run 'spindle setup rerun <thread>' once you trust it."
      )
    } else if (fromThread !== undefined && bootstrap.runSetupScript === undefined && runSetupScript) {
      // A person starting from a thread's present gets its agent's files: setup runs only when asked.
      runSetupScript = false
      warnings.push(
        `Setup was not run: this worktree starts from thread ${fromThread.thread.id}'s present, files its agent wrote, and the setup script runs outside the sandbox. Ask for it (runSetupScript, --setup) to run it anyway, or run 'spindle setup rerun ${threadId}' once you trust them.`
      )
    }

    // Said up front, so the start's answer carries it even when it comes before setup ends; the
    // setup run reads the script again and is what refuses it.
    yield* Effect.gen(function* () {
      const rewritten = yield* branchRewrittenWarning(repositories, project)
      if (rewritten !== undefined) warnings.push(rewritten)
      if (!runSetupScript) return
      const source = yield* resolveSetupScript(repositories, project)
      if (source._tag === "unapproved") warnings.push(source.message)
    }).pipe(Effect.catchTag("GitError", gitFailure("bootstrap.createThread.projectId")))

    return {
      project,
      threadId,
      parentThreadId: parent?.threadId ?? null,
      title: request.title ?? titleFromPrompt(prompt),
      tags: request.tags ?? [],
      provider,
      model: model_,
      runtimeMode: request.runtimeMode ?? from?.runtimeMode ?? project.defaultRuntimeMode,
      interactionMode: request.interactionMode ?? from?.interactionMode ?? "default",
      // An agent's child wakes it when done; a thread a person started tells no one.
      onDone: request.onDone ?? (parent === undefined ? "none" : "wake"),
      attempt: request.attempt ?? null,
      mode,
      workspace,
      runSetupScript,
      onSetupFailure: bootstrap.onSetupFailure ?? "stop",
      prompt: startLine === undefined ? prompt : withStartLine(startLine, prompt),
      turnId: command.turnId ?? TurnId.make(command.commandId),
      warnings,
      attachments
    } satisfies BootstrapPlan
  })

/**
 * Step 3: the workspace the plan names, created (new_worktree, from the plan's checked branch and
 * base, out of the project's warm pool when it has a slot) or as validated.
 */
export const prepareWorkspace = (
  worktrees: Worktrees["Service"],
  pool: WorktreePool["Service"],
  plan: BootstrapPlan,
  onPlanned?: (planned: { readonly branch: string; readonly path: string }) => Effect.Effect<void>,
  tracked?: TrackedGit
) => {
  const { workspace } = plan
  switch (workspace.mode) {
    case "new_worktree":
      return worktrees
        .createPlanned({
          repo: plan.project.workspaceRoot,
          projectKey: plan.project.id,
          branch: workspace.branch,
          base: workspace.base,
          initSubmodules: workspace.initSubmodules,
          submoduleUrls: plan.project.submoduleUrls,
          refreshSubmodules: `spindle project update ${plan.project.id} --init-submodules on`,
          gitHooks: plan.project.gitHooks,
          // Slots have no submodules checked out; such a project always takes the slow way.
          ...(workspace.initSubmodules ? {} : { claimSlot: pool.claim(plan.project, workspace.base) }),
          ...(onPlanned === undefined ? {} : { onPlanned }),
          ...(tracked === undefined ? {} : { tracked })
        })
        .pipe(Effect.mapError((e) => toSpindleError(e, "bootstrap.workspace")))
    case "existing_worktree":
      // Checked again as it is bound: a registration can be rewritten between plan and bind.
      return worktrees.adopt(plan.project.workspaceRoot, workspace.adopted.worktreePath).pipe(
        Effect.mapError((e) => toSpindleError(e, "bootstrap.workspace.worktreePath")),
        Effect.filterOrFail(
          (adopted) => adopted.worktreePath === workspace.adopted.worktreePath,
          () =>
            new SpindleError({
              reason: "conflict",
              field: "bootstrap.workspace.worktreePath",
              path: workspace.adopted.worktreePath,
              message: `${workspace.adopted.worktreePath} now resolves to another folder (a symlink changed while the thread started). Start the thread again.`
            })
        )
      )
    case "current_checkout":
      return Effect.succeed({
        worktreePath: workspace.path,
        branch: workspace.branch,
        baseBranch: null,
        createdByUs: false,
        warnings: []
      } satisfies PreparedWorktree)
  }
}
