// The thread subcommands for following a team of threads: wait for threads, a thread's children as
// a tree, its full diff, stopping a thread. Thin: one or two requests each, a readable answer or JSON.
import type { ArchiveResult, Thread, ThreadId } from "@spindle/contracts"
import { hasLiveTurn } from "@spindle/read-model/turnState"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { withClient } from "./connect.ts"
import { CliFailure, EXIT, usageError } from "./errors.ts"
import { idArgument } from "./ids.ts"
import { describeWorktree } from "./lifecycleCommands.ts"
import { commandId, print } from "./output.ts"
import { mergeOrderLines, overlapLines } from "./radarCommands.ts"
import { stateLine } from "./threadView.ts"
import { endOf, endSentence, interruptAndWait } from "./turnStop.ts"

/** The server answers a wait within an hour; longer waits are several calls. */
const CHUNK_SECONDS = 3600
const threadIdArg = idArgument("thread", "The thread's id")

export const waitCommand = Command.make(
  "wait",
  {
    threads: idArgument("thread", "The threads to wait for").pipe(Argument.between(1, 256)),
    any: Flag.Boolean("any").pipe(
      Flag.withDescription("Until one of them got there"),
      Flag.withDefault(false)
    ),
    for: Flag.Literals("for", ["turn-completed", "setup-completed", "needs-approval"]).pipe(
      Flag.withDescription("What to wait for"),
      Flag.withDefault("turn-completed" as const)
    ),
    timeout: Flag.Int("timeout").pipe(
      Flag.withDescription("Give up after this many seconds (0 to 86400): exit 4"),
      Flag.optional
    )
  },
  (flags) =>
    Effect.gen(function* () {
      const timeout = Option.getOrUndefined(flags.timeout)
      if (timeout !== undefined && (timeout < 0 || timeout > 86_400)) {
        return yield* usageError(`--timeout takes whole seconds from 0 to 86400 (got ${timeout}).`)
      }
      const threadIds = flags.threads as ReadonlyArray<ThreadId>
      const result = yield* withClient((client) =>
        Effect.gen(function* () {
          let left = timeout
          while (true) {
            const chunk = left === undefined ? CHUNK_SECONDS : Math.min(left, CHUNK_SECONDS)
            const answer = yield* client["thread.wait"]({
              threadIds,
              until: flags.any ? "any" : "all",
              for: flags.for,
              timeoutSeconds: chunk
            })
            if (answer.done) return answer
            if (left !== undefined) left -= chunk
            if (left !== undefined && left <= 0) {
              return yield* new CliFailure({
                code: EXIT.timeout,
                reason: "timeout",
                message: `timed out after ${timeout} s waiting for ${flags.for}:\n${answer.threads.map(stateLine).join("\n")}`,
                details: { threads: answer.threads }
              })
            }
          }
        })
      )
      // A thread whose turn never started is settled, not done: nothing will finish it by itself.
      const reached = result.threads.filter((t) => result.reached.includes(t.id))
      const turnless = reached.filter((t) => t.latestTurn === null)
      if (
        flags.for === "turn-completed" &&
        turnless.length > 0 &&
        (!flags.any || turnless.length === reached.length)
      ) {
        return yield* new CliFailure({
          code: EXIT.failed,
          reason: "no-turn",
          message: turnless.map(noTurnSentence).join("\n"),
          details: { threads: result.threads }
        })
      }
      yield* print(result, (r) => r.threads.map(stateLine).join("\n"))
    })
).pipe(
  Command.withDescription(
    "Wait until the threads reached a state: exit 0 once they did, 1 if a thread has no turn to wait for, 4 on timeout (--json: {done, reached, threads})"
  )
)

/** Why a thread has no turn to wait for, and what starts one. */
const noTurnSentence = (t: Thread) => {
  const why =
    t.status === "archived"
      ? "it is archived"
      : t.bootstrap.status === "failed"
        ? `its bootstrap failed${t.bootstrap.stage ? ` (${t.bootstrap.stage})` : ""}`
        : ["failed", "timed-out", "cancelled", "interrupted"].includes(t.setup.status)
          ? `its setup ${t.setup.status}: see 'spindle thread logs ${t.id}', then 'spindle setup rerun ${t.id}'`
          : `it was started without one: send one with 'spindle thread send ${t.id} --prompt …'`
  return `thread ${t.id}: no turn started, so none will complete; ${why}.`
}

type Node = Thread & { children: Array<Node> }

export const childrenCommand = Command.make("children", { thread: threadIdArg }, ({ thread }) =>
  Effect.gen(function* () {
    const root = thread as ThreadId
    const tree = yield* withClient((client) =>
      Effect.gen(function* () {
        const threads = (yield* client["orchestration.getSnapshot"]()).threads
        if (!threads.some((t) => t.id === root)) yield* client["thread.get"]({ threadId: root })
        const radar = yield* client["thread.children"]({ threadId: root })
        const childrenOf = (id: string): Array<Node> =>
          threads.filter((t) => t.parentThreadId === id).map((t) => ({ ...t, children: childrenOf(t.id) }))
        return {
          threadId: root,
          children: childrenOf(root),
          // The live children's changes, the overlaps they are part of, the order to merge them in.
          diffs: Object.fromEntries(radar.children.map((c) => [c.thread.id, c.diff])),
          overlaps: radar.overlaps,
          mergeOrder: radar.mergeOrder
        }
      })
    )
    yield* print(tree, (tree) => {
      const lines: Array<string> = [tree.threadId]
      const draw = (nodes: Array<Node>, prefix: string) =>
        nodes.forEach((node, i) => {
          const last = i === nodes.length - 1
          const diff = tree.diffs[node.id]
          const stat =
            diff == null
              ? ""
              : `  ${diff.filesChanged} file(s) +${diff.insertions} -${diff.deletions}, ${diff.commitsAhead} commit(s) ahead`
          lines.push(`${prefix}${last ? "└─ " : "├─ "}${stateLine(node)}${stat}`)
          draw(node.children, `${prefix}${last ? "   " : "│  "}`)
        })
      draw(tree.children, "")
      if (tree.children.length === 0) return `${tree.threadId} has no child threads.`
      return [
        ...lines,
        ...(tree.overlaps.length === 0
          ? ["no overlaps between its live children and other live threads"]
          : ["overlaps (conflict radar):", ...tree.overlaps.flatMap((o) => overlapLines(o))]),
        ...(tree.mergeOrder.length === 0
          ? []
          : ["suggested merge order:", ...mergeOrderLines(tree.mergeOrder)])
      ].join("\n")
    })
  })
).pipe(
  Command.withDescription(
    "The threads it started, as a tree, with each live child's changes, their overlaps and the suggested merge order"
  )
)

export const diffCommand = Command.make("diff", { thread: threadIdArg }, ({ thread }) =>
  Effect.gen(function* () {
    const diff = yield* withClient((client) => client["thread.diff"]({ threadId: thread as ThreadId }))
    yield* print(
      diff,
      (d) =>
        `${d.patch.replace(/\n$/, "")}${d.truncated ? "\n… (cut at 4 MiB; see the worktree for the rest)" : ""}`
    )
  })
).pipe(Command.withDescription("Its full patch against its base"))

export const stopThreadCommand = Command.make(
  "stop",
  {
    thread: threadIdArg,
    archive: Flag.Boolean("archive").pipe(Flag.withDescription("Archive it too"), Flag.withDefault(false))
  },
  ({ thread, archive }) =>
    Effect.gen(function* () {
      const threadId = thread as ThreadId
      const result = yield* withClient((client) =>
        Effect.gen(function* () {
          const before = yield* client["thread.get"]({ threadId })
          // Answers how its turn really ended (or that it still runs), as t3_thread_stop does.
          const after = hasLiveTurn(before)
            ? yield* interruptAndWait(client, threadId, before, "stop")
            : undefined
          // A queued thread is taken out of the queue: archived, it never starts.
          const queued = before.status === "queued"
          const archived = (archive && before.status === "active") || queued
          const archiveResult = archived
            ? ((yield* client["orchestration.dispatchCommand"]({
                command: { type: "thread.archive", commandId: commandId("archive"), threadId }
              })) as ArchiveResult)
            : undefined
          const turnStatus = after === undefined ? null : endOf(before, after)
          return {
            threadId,
            interrupted: turnStatus === "interrupted",
            turnStatus,
            archived,
            // What became of its worktree: removed, or kept and why.
            worktree: archiveResult?.worktree ?? null,
            kept: archiveResult === undefined ? [] : describeWorktree(archiveResult),
            said: queued
              ? `${threadId} was queued; it left the queue without starting.`
              : after === undefined
                ? `${threadId} had no turn running.`
                : endSentence(before, after)
          }
        })
      )
      const { said, kept, ...json } = result
      yield* print(json, (r) =>
        [`${said}${r.archived ? ` Archived ${r.threadId}.` : ""}`, ...kept].join("\n")
      )
    })
).pipe(
  Command.withDescription(
    "Interrupt its turn and say how it ended, waiting at most 15 s (and archive it with --archive); a queued thread leaves the queue, archived"
  )
)
