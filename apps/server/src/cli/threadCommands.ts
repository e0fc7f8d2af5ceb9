// `spindle thread …`: start, list, show, path, open, logs, follow, and the subcommands defined
// beside this file (turns, teams, lifecycle). Flags are checked before connecting; each command
// then sends one or two requests and prints the contracts' Thread (JSON) or its human form.
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { resolve } from "node:path"
import { type BootstrapAnswer, type BootstrapResult, PROVIDER_KINDS, type ThreadId } from "@spindle/contracts"
import { threadOfEvent } from "@spindle/read-model/readModel"
import { THREAD_ID_HEX, threadIdOf } from "@spindle/shared/threadIds"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { attachFlag, attachmentsOf } from "./attachFlag.ts"
import { startVariants, variantsOf } from "./attemptCommands.ts"
import { withClient } from "./connect.ts"
import { CliFailure, EXIT, usageError } from "./errors.ts"
import { failedTurn, followThread, stillGoing } from "./follow.ts"
import { globalOptions } from "./globals.ts"
import { idArgument, idFlag } from "./ids.ts"
import { archiveCommand, deleteCommand, unarchiveCommand } from "./lifecycleCommands.ts"
import { mergeCommand } from "./mergeCommand.ts"
import { commandId, print, writeErrorLine, writeLine } from "./output.ts"
import { overlapLines } from "./radarCommands.ts"
import { agentRights, RUNTIME_MODES, runtimeModeHelp } from "./runtimeModes.ts"
import { childrenCommand, diffCommand, stopThreadCommand, waitCommand } from "./teamCommands.ts"
import { formatThread, THREAD_STATES, threadState, threadTable, whereItStands } from "./threadView.ts"
import { approveCommand, declineCommand, interruptCommand, sendCommand } from "./turnCommands.ts"

const threadIdArg = idArgument("thread", "The thread's id")
const optionalString = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)
const opt = <A>(option: Option.Option<A>) => Option.getOrUndefined(option)

const setupFailure = (result: BootstrapResult) =>
  new CliFailure({
    code: EXIT.failed,
    reason: "setup-failed",
    message: `thread ${result.threadId}: setup ${result.setup.status}, no turn was started. See 'spindle thread logs ${result.threadId}', then 'spindle setup rerun ${result.threadId}'.`,
    details: { threadId: result.threadId, setup: result.setup }
  })

const start = Command.make(
  "start",
  {
    project: idFlag("project", "project", "The project to work in (spindle project list)"),
    prompt: Flag.String("prompt").pipe(Flag.withDescription("The first prompt for the agent")),
    mode: Flag.Literals("mode", ["new_worktree", "existing_worktree", "current_checkout"]).pipe(
      Flag.withDescription("Where it works (default new_worktree, or existing_worktree with --worktree)"),
      Flag.optional
    ),
    branch: optionalString("branch", "The branch to create (new_worktree)"),
    base: optionalString("base", "The branch to start from"),
    pr: Flag.Int("pr").pipe(Flag.withDescription("Start from this pull request's head"), Flag.optional),
    fromThread: idFlag(
      "thread",
      "from-thread",
      "Start from this thread's present: its HEAD (a thread of the same project, with a worktree)"
    ).pipe(Flag.optional),
    includeUncommitted: Flag.Boolean("include-uncommitted").pipe(
      Flag.withDescription(
        "With --from-thread: also its uncommitted changes (tracked and untracked, not ignored), as one commit the new branch starts at; its files and index are not touched"
      ),
      Flag.withDefault(false)
    ),
    worktree: optionalString("worktree", "An existing worktree to use (existing_worktree)"),
    title: optionalString("title", "A title for the thread"),
    threadId: idFlag("thread", "thread-id", "Its id (default: generated)").pipe(Flag.optional),
    host: optionalString(
      "host",
      "The host to run it on (id or name, spindle hosts; it needs a checkout of the project). Default: the one with the most free capacity"
    ),
    provider: Flag.Literals("provider", PROVIDER_KINDS).pipe(
      Flag.withDescription("The agent (default: the project's)"),
      Flag.optional
    ),
    model: optionalString("model", "The model (default: the project's)"),
    runtimeMode: Flag.Literals("runtime-mode", RUNTIME_MODES).pipe(
      Flag.withDescription(
        runtimeModeHelp(
          "What the agent may do without asking (default: the project's, see 'spindle project show')"
        )
      ),
      Flag.optional
    ),
    setup: Flag.Boolean("setup").pipe(
      Flag.withDescription("Run the project's setup script (--no-setup: skip it)"),
      Flag.optional
    ),
    queue: Flag.Boolean("queue").pipe(
      Flag.withDescription(
        "Past a limit (active threads, running turns), wait in the queue and start when a slot frees (default); --no-queue: refuse instead (reason capacity, exit 1)"
      ),
      Flag.optional
    ),
    attach: attachFlag("An image or text file given with the first prompt"),
    follow: Flag.Boolean("follow").pipe(
      Flag.withDescription(
        "Show workspace, setup output, the agent's messages and commands until the turn ends (exit 1 if it fails); with --json, one JSON event per line, then the thread"
      ),
      Flag.withDefault(false)
    ),
    variants: Flag.Int("variants").pipe(
      Flag.withDescription(
        "Best of N: the same prompt in N (2 to 8) sibling threads, one attempt; prints the attempt's id ('spindle attempt show')"
      ),
      Flag.optional
    ),
    models: optionalString("models", "With --variants: one model per variant, comma-separated"),
    providers: optionalString("providers", "With --variants: one provider per variant, comma-separated"),
    check: optionalString(
      "check",
      "With --variants: a shell command run in each variant's worktree after its turn completes (setup's environment and timeout)"
    )
  },
  (flags) =>
    Effect.gen(function* () {
      const { json } = yield* globalOptions
      if (flags.pr._tag === "Some" && flags.pr.value < 1) {
        return yield* usageError(`--pr takes a pull request number such as 42 (got ${flags.pr.value}).`)
      }
      const attachments = yield* attachmentsOf(flags.attach)
      const variants = yield* variantsOf(flags, {
        branch: Option.isSome(flags.branch),
        threadId: Option.isSome(flags.threadId),
        follow: flags.follow
      })
      const worktree = opt(flags.worktree)
      const threadId = opt(flags.threadId) ?? threadIdOf(randomBytes(THREAD_ID_HEX / 2).toString("hex"))
      const command = {
        type: "thread.turn.start",
        commandId: commandId("start"),
        threadId,
        prompt: flags.prompt,
        bootstrap: {
          createThread: {
            projectId: flags.project,
            ...(opt(flags.title) === undefined ? {} : { title: opt(flags.title) }),
            ...(opt(flags.host) === undefined ? {} : { host: opt(flags.host) }),
            ...(opt(flags.provider) === undefined ? {} : { provider: opt(flags.provider) }),
            ...(opt(flags.model) === undefined ? {} : { model: opt(flags.model) }),
            ...(opt(flags.runtimeMode) === undefined ? {} : { runtimeMode: opt(flags.runtimeMode) })
          },
          workspace: {
            mode: opt(flags.mode) ?? (worktree === undefined ? "new_worktree" : "existing_worktree"),
            ...(opt(flags.branch) === undefined ? {} : { branch: opt(flags.branch) }),
            ...(opt(flags.base) === undefined ? {} : { baseBranch: opt(flags.base) }),
            ...(opt(flags.pr) === undefined ? {} : { pr: opt(flags.pr) }),
            ...(opt(flags.fromThread) === undefined ? {} : { fromThread: opt(flags.fromThread) }),
            // Said only when asked: the server refuses it, naming the flag, without --from-thread.
            ...(flags.includeUncommitted ? { includeUncommitted: true } : {}),
            ...(worktree === undefined ? {} : { worktreePath: resolve(worktree) })
          },
          ...(opt(flags.setup) === undefined ? {} : { runSetupScript: opt(flags.setup) }),
          ...(opt(flags.queue) === undefined ? {} : { queue: opt(flags.queue) }),
          ...(attachments.length === 0 ? {} : { attachments })
        }
      }
      if (variants !== undefined) return yield* startVariants(command, variants)
      const thread = yield* withClient((client) =>
        Effect.gen(function* () {
          // Where the event stream stands, for following or announcing; a script (--json, no
          // --follow) needs neither and pays no round trip for it.
          const status = flags.follow || !json ? yield* client["server.getStatus"]() : undefined
          // Without --follow, its id as soon as it exists: the worktree, setup and turn can take a
          // while, and Ctrl-C leaves it running.
          if (status !== undefined && !flags.follow)
            yield* client["orchestration.subscribe"]({ fromSequence: status.sequence }).pipe(
              Stream.filter((event) => threadOfEvent(event) === threadId),
              Stream.take(1),
              Stream.runForEach(() =>
                Effect.sync(() =>
                  writeErrorLine(
                    `Started thread ${threadId}: preparing its worktree, setup, then its first turn…`
                  )
                )
              ),
              Effect.forkChild
            )
          const progress =
            status === undefined || !flags.follow
              ? undefined
              : yield* Effect.forkChild(
                  followThread(client, threadId, status.sequence, writeLine, {
                    json,
                    untilTurnRequested: status.providers === false
                  })
                )
          const answer = (yield* client["orchestration.dispatchCommand"]({ command }).pipe(
            // A refused command (bad project, bad flag value) ends the command at once.
            Effect.onError(() => (progress === undefined ? Effect.void : Fiber.interrupt(progress)))
          )) as BootstrapAnswer
          if (!json) for (const warning of answer.warnings) writeErrorLine(`spindle: ! ${warning}`)
          if (answer.turn.status === "queued") {
            if (!json && "queue" in answer) {
              writeErrorLine(
                `Thread ${threadId} is ${answer.queue.message}. It starts when a slot frees; take it out of the queue with 'spindle thread stop ${threadId}'.`
              )
            }
            // Followed, it goes on once it leaves the queue; else its queued state is the answer.
            if (progress !== undefined) yield* failedTurn(yield* Fiber.join(progress), threadId)
            return yield* client["thread.get"]({ threadId: threadId as ThreadId })
          }
          const result = answer as BootstrapResult
          if (result.turn.status === "not-started") {
            if (progress !== undefined)
              yield* Effect.ignore(Fiber.await(progress).pipe(Effect.timeout("10 seconds")))
            return yield* setupFailure(result)
          }
          if (progress !== undefined) yield* failedTurn(yield* Fiber.join(progress), threadId)
          return yield* client["thread.get"]({ threadId: threadId as ThreadId })
        })
      ).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            if (!flags.follow) writeErrorLine(stillGoing(threadId))
          })
        )
      )
      if (json) return writeLine(flags.follow ? JSON.stringify(thread) : JSON.stringify(thread, null, 2))
      if (thread.status === "queued" && thread.queue !== null) {
        return writeLine(
          [
            `Queued thread ${thread.id}: position ${thread.queue.position}, waiting for ${thread.queue.waitsFor.kind} (limit ${thread.queue.waitsFor.limit})`,
            `  follow it: spindle thread follow ${thread.id}`,
            `  cancel it: spindle thread stop ${thread.id}`
          ].join("\n")
        )
      }
      writeLine(
        flags.follow
          ? `✓ thread ${thread.id} (${thread.provider === "command" ? "command agent" : thread.runtimeMode}): turn ${thread.latestTurn?.status ?? "not started"} in ${thread.workspace.worktreePath}`
          : [
              `Started thread ${thread.id} (${thread.workspace.mode})`,
              `  agent ${agentRights(thread)}`,
              `  worktree ${thread.workspace.worktreePath}${thread.workspace.branch ? ` on ${thread.workspace.branch}` : ""}${thread.workspace.baseBranch ? ` from ${thread.workspace.baseBranch}` : ""}`,
              `  setup ${thread.setup.status}, turn ${thread.latestTurn?.status ?? "not started"}`,
              `  follow it: spindle thread follow ${thread.id}`
            ].join("\n")
      )
    })
).pipe(
  Command.withDescription("Start a thread: a workspace (worktree), its setup, and the agent's first turn")
)

const list = Command.make(
  "list",
  {
    project: idFlag("project", "project", "Only this project's threads").pipe(Flag.optional),
    state: Flag.Literals("state", THREAD_STATES).pipe(
      Flag.withDescription("Only threads in this state"),
      Flag.optional
    ),
    parent: idFlag("thread", "parent", "Only the children of this thread").pipe(Flag.optional),
    limit: Flag.Int("limit").pipe(Flag.withDescription("At most this many (newest first)"), Flag.optional)
  },
  (flags) =>
    Effect.gen(function* () {
      const limit = opt(flags.limit)
      if (limit !== undefined && limit < 1)
        return yield* usageError(`--limit takes a number from 1 up (got ${limit}).`)
      const [snapshot, hosts] = yield* withClient((client) =>
        Effect.all([client["orchestration.getSnapshot"](), client["hosts.list"]()], { concurrency: 2 })
      )
      const offline = new Set(hosts.filter((host) => host.state !== "online").map((host) => host.id))
      const threads = snapshot.threads
        .filter(
          (t) =>
            (flags.project._tag === "None" || t.projectId === flags.project.value) &&
            (flags.state._tag === "None" || threadState(t, offline) === flags.state.value) &&
            (flags.parent._tag === "None" || t.parentThreadId === flags.parent.value)
        )
        .toSorted((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
        .slice(0, limit)
      yield* print(threads, (all) => threadTable(all, Date.now(), offline))
    })
).pipe(Command.withDescription("The threads, newest first: id, project, state, branch, age, parent"))

const show = Command.make("show", { thread: threadIdArg }, ({ thread: threadId }) =>
  Effect.gen(function* () {
    const {
      thread,
      output,
      overlaps = []
    } = yield* withClient((client) => client["thread.show"]({ threadId: threadId as ThreadId }))
    const { json } = yield* globalOptions
    if (json) return writeLine(JSON.stringify(thread, null, 2))
    const diff = output.diff
    writeLine(
      [
        formatThread(thread),
        ...(diff === null
          ? []
          : [
              `  changes against ${diff.base}: ${diff.filesChanged} file(s), +${diff.insertions} -${diff.deletions}, ${diff.commitsAhead} commit(s) ahead${diff.filesTruncated ? " (first files listed)" : ""}`,
              ...diff.files.map(
                (f) =>
                  `    ${f.status === "untracked" ? "?" : "M"} ${f.path}${f.insertions === null ? "" : ` +${f.insertions} -${f.deletions}`}`
              )
            ]),
        ...(overlaps.length === 0
          ? []
          : [
              `  overlaps (conflict radar): ${overlaps.length} live thread(s) change the same lines`,
              ...overlaps.flatMap((o) => overlapLines(o, thread.id, "    "))
            ])
      ].join("\n")
    )
  })
).pipe(Command.withDescription("A thread: workspace, setup, agent, turn, approvals, changes"))

const worktreeOf = (threadId: string) =>
  Effect.gen(function* () {
    const thread = yield* withClient((client) => client["thread.get"]({ threadId: threadId as ThreadId }))
    if (thread.workspace.worktreePath === null) {
      return yield* new CliFailure({
        code: EXIT.failed,
        reason: "no-worktree",
        message: `thread ${threadId} has no worktree (${thread.status}). 'spindle thread unarchive ${threadId}' checks it out again.`,
        details: { threadId }
      })
    }
    return thread.workspace.worktreePath
  })

const path = Command.make("path", { thread: threadIdArg }, ({ thread }) =>
  Effect.flatMap(worktreeOf(thread), (worktreePath) =>
    print({ threadId: thread, worktreePath }, (r) => r.worktreePath)
  )
).pipe(Command.withDescription(`The thread's worktree path: cd "$(spindle thread path ID)"`))

const open = Command.make("open", { thread: threadIdArg }, ({ thread }) =>
  Effect.gen(function* () {
    const worktreePath = yield* worktreeOf(thread)
    // An empty or blank VISUAL/EDITOR names no editor: print the path.
    const editor = (process.env.VISUAL?.trim() || process.env.EDITOR?.trim()) ?? ""
    const { json } = yield* globalOptions
    if (editor === "" || json) return yield* print({ threadId: thread, worktreePath }, (r) => r.worktreePath)
    const run = spawnSync("/bin/sh", ["-c", `${editor} "$1"`, "spindle-open", worktreePath], {
      stdio: "inherit"
    })
    if (run.status !== 0) {
      return yield* new CliFailure({
        code: EXIT.failed,
        reason: "editor-failed",
        message: `'${editor}' exited with ${run.status ?? run.signal}; the worktree is ${worktreePath}.`
      })
    }
  })
).pipe(Command.withDescription("Open the thread's worktree in $VISUAL or $EDITOR (else print its path)"))

const logs = Command.make(
  "logs",
  {
    thread: threadIdArg,
    follow: Flag.Boolean("follow").pipe(
      Flag.withDescription("Keep printing new output"),
      Flag.withDefault(false)
    )
  },
  ({ thread: threadId, follow }) =>
    Effect.gen(function* () {
      const { json } = yield* globalOptions
      yield* withClient((client) =>
        Effect.gen(function* () {
          yield* client["thread.get"]({ threadId: threadId as ThreadId })
          const items = client["thread.streamSetupLog"]({ threadId: threadId as ThreadId })
          yield* Stream.runForEach(follow ? items : Stream.take(items, 1), (item) =>
            Effect.sync(() => {
              if (json) {
                // One JSON line per element: the log so far, split into lines, then each new line.
                if (item.kind === "log") {
                  for (const line of item.text.replace(/\n$/, "").split("\n"))
                    if (item.text !== "") writeLine(JSON.stringify({ run: item.run, line }))
                } else writeLine(JSON.stringify({ run: item.run, stream: item.stream, line: item.line }))
                return
              }
              const text = item.kind === "log" ? item.text.replace(/\n$/, "") : item.line
              if (text !== "") writeLine(text)
            })
          )
        })
      )
    })
).pipe(Command.withDescription("The setup script's output (--json: one JSON object per line)"))

const follow = Command.make("follow", { thread: threadIdArg }, ({ thread: threadId }) =>
  Effect.gen(function* () {
    const { json } = yield* globalOptions
    const thread = yield* withClient((client) =>
      Effect.gen(function* () {
        const status = yield* client["server.getStatus"]()
        const before = yield* client["thread.get"]({ threadId: threadId as ThreadId })
        const live =
          before.bootstrap.status === "running" ||
          before.setup.status === "running" ||
          before.latestTurn?.status === "requested" ||
          before.latestTurn?.status === "running"
        if (live) {
          if (!json) writeLine(whereItStands(before))
          const end = yield* followThread(client, threadId, status.sequence, writeLine, {
            json,
            untilTurnRequested: status.providers === false
          })
          yield* failedTurn(end, threadId)
        }
        return yield* client["thread.get"]({ threadId: threadId as ThreadId })
      })
    )
    writeLine(json ? JSON.stringify(thread) : formatThread(thread))
  })
).pipe(
  Command.withDescription(
    "Re-attach to a thread: its progress from now until its turn ends (at once if nothing runs); --json: NDJSON"
  )
)

export const threadCommand = Command.make("thread").pipe(
  Command.withDescription("Threads: a coding agent's conversation in its own worktree"),
  Command.withSubcommands([
    start,
    list,
    show,
    path,
    open,
    logs,
    follow,
    sendCommand,
    interruptCommand,
    approveCommand,
    declineCommand,
    waitCommand,
    childrenCommand,
    diffCommand,
    mergeCommand,
    stopThreadCommand,
    archiveCommand,
    unarchiveCommand,
    deleteCommand
  ])
)
