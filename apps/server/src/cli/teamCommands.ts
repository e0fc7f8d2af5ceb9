// The thread subcommands for following a team of threads: wait for threads, a thread's children as
// a tree, its full diff, stopping a thread. Thin: one or two requests each, a readable answer or JSON.
import type { Thread, ThreadId, WaitFor } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { hasLiveTurn, turnStateOf } from "../domain/turnState.ts"
import { commandId, parse, str } from "./commands.ts"
import { ExitWith, runWithClient } from "./connect.ts"
import { EXIT, UsageError } from "./usage.ts"

const WAIT_FOR: ReadonlyArray<WaitFor> = ["turn-completed", "setup-completed", "needs-approval"]
/** The server answers a wait within an hour; longer waits are several calls. */
const CHUNK_SECONDS = 3600

const stateLine = (t: Thread) =>
  `${t.id}  ${turnStateOf(t)}${t.latestTurn?.reason ? `: ${t.latestTurn.reason}` : ""}${
    t.pendingApprovals.length > 0 ? `  (${t.pendingApprovals.length} approval(s) waiting)` : ""
  }  ${t.title}`

/** `spindle thread wait <id>... [--any] [--for STATE] [--timeout S]`: exit 0 when reached, 4 on timeout. */
export const waitCommand = (args: ReadonlyArray<string>) => {
  const { values, positionals, global } = parse(
    args,
    { any: { type: "boolean" }, for: { type: "string" }, timeout: { type: "string" } },
    [1, 256]
  )
  const state = (str(values, "for") ?? "turn-completed") as WaitFor
  if (!WAIT_FOR.includes(state)) {
    throw new UsageError(`--for must be one of ${WAIT_FOR.join(", ")} (got '${state}').`)
  }
  const timeoutText = str(values, "timeout")
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText)
  if (timeout !== undefined && (!/^\d+$/.test(timeoutText!) || timeout > 86_400)) {
    throw new UsageError(`--timeout takes whole seconds from 0 to 86400 (got '${timeoutText}').`)
  }
  const threadIds = positionals as Array<ThreadId>
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        let left = timeout
        while (true) {
          const chunk = left === undefined ? CHUNK_SECONDS : Math.min(left, CHUNK_SECONDS)
          const result = yield* client["thread.wait"]({
            threadIds,
            until: values.any === true ? "any" : "all",
            for: state,
            timeoutSeconds: chunk
          })
          if (result.done) return result
          if (left !== undefined) left -= chunk
          if (left !== undefined && left <= 0) {
            return yield* new ExitWith({
              code: EXIT.timeout,
              message: `timed out after ${timeout} s waiting for ${state}:\n${result.threads.map(stateLine).join("\n")}`
            })
          }
        }
      }),
    (result) => result.threads.map(stateLine).join("\n")
  )
}

/** `spindle thread children <id>`: the thread's descendants as a tree. */
export const childrenCommand = (args: ReadonlyArray<string>) => {
  const { positionals, global } = parse(args, {}, 1)
  const root = positionals[0]! as ThreadId
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        const threads = (yield* client["orchestration.getSnapshot"]()).threads
        if (!threads.some((t) => t.id === root)) yield* client["thread.get"]({ threadId: root })
        const childrenOf = (id: string): Array<Thread & { children: Array<unknown> }> =>
          threads.filter((t) => t.parentThreadId === id).map((t) => ({ ...t, children: childrenOf(t.id) }))
        return { threadId: root, children: childrenOf(root) }
      }),
    (tree) => {
      const lines: Array<string> = [tree.threadId]
      const draw = (nodes: Array<Thread & { children: Array<unknown> }>, prefix: string) =>
        nodes.forEach((node, i) => {
          const last = i === nodes.length - 1
          lines.push(`${prefix}${last ? "└─ " : "├─ "}${stateLine(node)}`)
          draw(
            node.children as Array<Thread & { children: Array<unknown> }>,
            `${prefix}${last ? "   " : "│  "}`
          )
        })
      draw(tree.children, "")
      return tree.children.length === 0 ? `${tree.threadId} has no child threads.` : lines.join("\n")
    }
  )
}

/** `spindle thread diff <id>`: the full patch against the thread's base. */
export const diffCommand = (args: ReadonlyArray<string>) => {
  const { positionals, global } = parse(args, {}, 1)
  return runWithClient(
    global,
    (client) => client["thread.diff"]({ threadId: positionals[0]! as ThreadId }),
    (diff) =>
      `${diff.patch.replace(/\n$/, "")}${diff.truncated ? "\n… (cut at 4 MiB; see the worktree for the rest)" : ""}`
  )
}

/** `spindle thread stop <id> [--archive]`: interrupts its turn (and archives it). */
export const stopCommand = (args: ReadonlyArray<string>) => {
  const { values, positionals, global } = parse(args, { archive: { type: "boolean" } }, 1)
  const threadId = positionals[0]! as ThreadId
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        const before = yield* client["thread.get"]({ threadId })
        const live = hasLiveTurn(before)
        if (live) {
          yield* client["orchestration.dispatchCommand"]({
            command: { type: "thread.turn.interrupt", commandId: commandId("stop"), threadId }
          })
        }
        if (values.archive === true && before.status === "active") {
          yield* client["orchestration.dispatchCommand"]({
            command: { type: "thread.archive", commandId: commandId("archive"), threadId }
          })
        }
        return { threadId, interrupted: live, archived: values.archive === true }
      }),
    (r) =>
      `${r.interrupted ? `Interrupted the turn of ${r.threadId}` : `${r.threadId} had no turn running`}${r.archived ? "; archived it." : "."}`
  )
}
