// The client subcommands of `spindle`: parse their flags, send one request (or follow a thread),
// print a readable answer or JSON. Each is a thin layer over the WebSocket API. The project,
// token, turn and team subcommands are in files of their own beside this one.
import { randomBytes } from "node:crypto"
import { resolve } from "node:path"
import { parseArgs } from "node:util"
import type { BootstrapResult, Thread, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { turnStateOf } from "../domain/turnState.ts"
import { ExitWith, type GlobalOptions, runWithClient } from "./connect.ts"
import { type FollowEnd, followThread } from "./follow.ts"
import { lifecycleCommand } from "./lifecycleCommands.ts"
import { childrenCommand, diffCommand, stopCommand, waitCommand } from "./teamCommands.ts"
import { approvalCommand, interruptCommand, sendCommand } from "./turnCommands.ts"
import { EXIT, UsageError } from "./usage.ts"

export const commandId = (prefix: string) => `${prefix}-${randomBytes(6).toString("hex")}`

const globalFlags = {
  url: { type: "string" },
  token: { type: "string" },
  home: { type: "string" },
  json: { type: "boolean" }
} as const

type FlagSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>

/** `positionals`: how many arguments, or the least and most. */
export const parse = <F extends FlagSpec>(
  args: ReadonlyArray<string>,
  flags: F,
  positionals: number | readonly [number, number]
) => {
  const [least, most] = typeof positionals === "number" ? [positionals, positionals] : positionals
  let parsed: { values: Record<string, unknown>; positionals: Array<string> }
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...globalFlags, ...flags },
      strict: true,
      allowPositionals: true
    })
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. Run 'spindle help' for the options.`)
  }
  if (parsed.positionals.length < least || parsed.positionals.length > most) {
    throw new UsageError(
      `expected ${least === most ? least : `${least} to ${most}`} argument(s), got ${parsed.positionals.length}. Run 'spindle help'.`
    )
  }
  const values = parsed.values as Record<string, unknown>
  const global: GlobalOptions = {
    url: values.url as string | undefined,
    token: values.token as string | undefined,
    home: values.home as string | undefined,
    json: values.json === true
  }
  return { values, positionals: parsed.positionals, global }
}

export const str = (values: Record<string, unknown>, name: string) => values[name] as string | undefined

export const formatThread = (t: Thread) => {
  const turn = turnStateOf(t)
  return [
    `${t.id}  ${t.title}`,
    `  project ${t.projectId}  status ${t.status}  bootstrap ${t.bootstrap.status}${t.bootstrap.stage ? ` (${t.bootstrap.stage})` : ""}`,
    `  workspace ${t.workspace.mode} ${t.workspace.worktreePath ?? "-"}${t.workspace.branch ? ` on ${t.workspace.branch}` : ""}`,
    `  setup ${t.setup.status}${t.setup.runs > 0 ? ` (run ${t.setup.runs})` : ""}  turn ${turn}${t.latestTurn?.reason ? `: ${t.latestTurn.reason}` : ""}`,
    ...(t.ports === null
      ? []
      : [`  ports ${t.ports.first}-${t.ports.first + t.ports.count - 1} (SPINDLE_PORT ${t.ports.first})`]),
    ...(t.idleSince === null ? [] : [`  idle since ${t.idleSince}`]),
    ...(t.cleanup === null
      ? []
      : [
          `  worktree ${t.cleanup.outcome}${t.cleanup.reasons.length > 0 ? `: ${t.cleanup.reasons.join(" ")}` : ""}`
        ]),
    `  agent ${t.provider}${t.model === null ? "" : ` ${t.model}`} (${t.runtimeMode})  session ${t.session.status}${t.session.error ? `: ${t.session.error}` : ""}`,
    ...(t.latestTurn?.lastMessage
      ? [`  last message: ${t.latestTurn.lastMessage.split("\n")[0]!.slice(0, 200)}`]
      : []),
    ...t.pendingApprovals.map(
      (a) =>
        `  ? approval ${a.requestId}: ${a.kind === "command" ? (a.command ?? "a command") : "file changes"}  (spindle thread approve|decline ${t.id} ${a.requestId})`
    ),
    ...(t.bootstrap.error ? [`  error: ${t.bootstrap.error.message}`] : [])
  ].join("\n")
}

/** `--pr N`: a pull request number, checked here so a typo is a usage error (2), not the server's. */
const prNumber = (text: string) => {
  if (!/^[1-9]\d{0,8}$/.test(text))
    throw new UsageError(`--pr takes a pull request number such as 42 (got '${text}').`)
  return Number(text)
}

export const write = (line: string) => process.stdout.write(`${line}\n`)

export const threadCommand = (args: ReadonlyArray<string>) => {
  const [sub, ...rest] = args
  switch (sub) {
    case "start":
      return threadStart(rest)
    case "list": {
      const { global } = parse(rest, {}, 0)
      return runWithClient(
        global,
        (client) => Effect.map(client["orchestration.getSnapshot"](), (s) => s.threads),
        (threads) => (threads.length === 0 ? "No threads." : threads.map(formatThread).join("\n"))
      )
    }
    case "send":
      return sendCommand(rest)
    case "interrupt":
      return interruptCommand(rest)
    case "wait":
      return waitCommand(rest)
    case "children":
      return childrenCommand(rest)
    case "diff":
      return diffCommand(rest)
    case "stop":
      return stopCommand(rest)
    case "archive":
    case "unarchive":
    case "delete":
      return lifecycleCommand(rest, sub)
    case "path": {
      const { positionals, global } = parse(rest, {}, 1)
      return runWithClient(
        global,
        (client) => client["thread.get"]({ threadId: positionals[0] as ThreadId }),
        (thread) => thread.workspace.worktreePath ?? ""
      )
    }
    case "approve":
      return approvalCommand(rest, "approve")
    case "decline":
      return approvalCommand(rest, "decline")
    case "show": {
      const { positionals, global } = parse(rest, {}, 1)
      return runWithClient(
        global,
        (client) =>
          Effect.map(
            client["thread.show"]({ threadId: positionals[0] as ThreadId }),
            ({ thread, output }) => ({
              ...thread,
              output
            })
          ),
        (shown) => {
          const { output } = shown
          const diff = output.diff
          return [
            formatThread(shown),
            ...(diff === null
              ? []
              : [
                  `  changes against ${diff.base}: ${diff.filesChanged} file(s), +${diff.insertions} -${diff.deletions}, ${diff.commitsAhead} commit(s) ahead${diff.filesTruncated ? " (first files listed)" : ""}`,
                  ...diff.files.map(
                    (f) =>
                      `    ${f.status === "untracked" ? "?" : "M"} ${f.path}${f.insertions === null ? "" : ` +${f.insertions} -${f.deletions}`}`
                  )
                ])
          ].join("\n")
        }
      )
    }
    case "logs": {
      const { values, positionals, global } = parse(rest, { follow: { type: "boolean" } }, 1)
      const threadId = positionals[0] as ThreadId
      return runWithClient(
        global,
        (client) =>
          Effect.gen(function* () {
            yield* client["thread.get"]({ threadId })
            const items = client["thread.streamSetupLog"]({ threadId })
            const stream = values.follow === true ? items : Stream.take(items, 1)
            const lines: Array<string> = []
            yield* Stream.runForEach(stream, (item) =>
              Effect.sync(() => {
                const text = item.kind === "log" ? item.text.replace(/\n$/, "") : item.line
                if (global.json) lines.push(text)
                else if (text !== "") write(text)
              })
            )
            return global.json ? { lines } : undefined
          }),
        () => ""
      )
    }
  }
  throw new UsageError(
    "usage: spindle thread start|list|show <id>|path <id>|logs <id> [--follow]|archive <id> [--force]|unarchive <id>|delete <id> [--force]|send <id> --prompt TEXT [--follow]|interrupt <id>|stop <id> [--archive]|wait <id>...|children <id>|diff <id>|approve <id> [<request>]|decline <id> [<request>]"
  )
}

const threadStart = (args: ReadonlyArray<string>) => {
  const { values, global } = parse(
    args,
    {
      project: { type: "string" },
      prompt: { type: "string" },
      mode: { type: "string" },
      branch: { type: "string" },
      base: { type: "string" },
      pr: { type: "string" },
      attach: { type: "string", multiple: true },
      worktree: { type: "string" },
      title: { type: "string" },
      "thread-id": { type: "string" },
      provider: { type: "string" },
      model: { type: "string" },
      "runtime-mode": { type: "string" },
      setup: { type: "boolean" },
      "no-setup": { type: "boolean" },
      follow: { type: "boolean" }
    },
    0
  )
  const project = str(values, "project")
  const prompt = str(values, "prompt")
  if (project === undefined || prompt === undefined) {
    throw new UsageError("thread start needs --project <id> and --prompt <text>.")
  }
  const worktree = str(values, "worktree")
  const mode = str(values, "mode") ?? (worktree === undefined ? "new_worktree" : "existing_worktree")
  const threadId = str(values, "thread-id") ?? `t-${randomBytes(5).toString("hex")}`
  const runSetup = values["no-setup"] === true ? false : values.setup === true ? true : undefined
  const command = {
    type: "thread.turn.start",
    commandId: commandId("start"),
    threadId,
    prompt,
    bootstrap: {
      createThread: {
        projectId: project,
        ...(str(values, "title") === undefined ? {} : { title: str(values, "title") }),
        ...(str(values, "provider") === undefined ? {} : { provider: str(values, "provider") }),
        ...(str(values, "model") === undefined ? {} : { model: str(values, "model") }),
        ...(str(values, "runtime-mode") === undefined ? {} : { runtimeMode: str(values, "runtime-mode") })
      },
      workspace: {
        mode,
        ...(str(values, "branch") === undefined ? {} : { branch: str(values, "branch") }),
        ...(str(values, "base") === undefined ? {} : { baseBranch: str(values, "base") }),
        ...(str(values, "pr") === undefined ? {} : { pr: prNumber(str(values, "pr")!) }),
        ...(worktree === undefined ? {} : { worktreePath: resolve(worktree) })
      },
      ...(runSetup === undefined ? {} : { runSetupScript: runSetup }),
      // Read by the server, which runs as the same user on the same machine.
      ...(values.attach === undefined
        ? {}
        : { attachments: (values.attach as Array<string>).map((file) => ({ path: resolve(file) })) })
    }
  }
  const follow = values.follow === true && !global.json
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        if (!follow) return (yield* client["orchestration.dispatchCommand"]({ command })) as BootstrapResult
        const status = yield* client["server.getStatus"]()
        const progress = yield* Effect.forkChild(
          followThread(client, threadId, status.sequence, write, {
            untilTurnRequested: status.providers === false
          })
        )
        const result = (yield* client["orchestration.dispatchCommand"]({ command }).pipe(
          Effect.tapError(() => Effect.ignore(Fiber.interrupt(progress)))
        )) as BootstrapResult
        if (result.turn.status === "not-started") {
          yield* Effect.ignore(Fiber.await(progress).pipe(Effect.timeout("10 seconds")))
          return yield* new ExitWith({
            code: EXIT.failed,
            message: `setup ${result.setup.status}: no turn was started. See 'spindle thread logs ${threadId}', then 'spindle setup rerun ${threadId}'.`
          })
        }
        // Following means until the agent's turn ends (or, on a server that runs none, until it is requested).
        const end = yield* Fiber.join(progress)
        yield* failedTurn(end, threadId)
        return { ...result, end }
      }),
    (result) =>
      follow
        ? "end" in result && result.end === "turn-requested"
          ? `✓ thread ${result.threadId}: its first turn is requested in ${result.worktreePath} (this server runs no agent: --providers off)`
          : `✓ thread ${result.threadId}: the turn completed in ${result.worktreePath}`
        : [
            `Started thread ${result.threadId} (${result.mode})`,
            `  worktree ${result.worktreePath}${result.branch ? ` on ${result.branch}` : ""}${result.baseBranch ? ` from ${result.baseBranch}` : ""}`,
            `  setup ${result.setup.status}, turn ${result.turn.status}`,
            ...result.warnings.map((w) => `  ! ${w}`)
          ].join("\n")
  )
}

/** A followed turn that did not complete is a failure for scripts (exit 1), with what to do next. */
export const failedTurn = (end: FollowEnd, threadId: string) =>
  end === "turn-failed" || end === "turn-interrupted" || end === "setup-failed" || end === "bootstrap-failed"
    ? Effect.fail(
        new ExitWith({
          code: EXIT.failed,
          message: `${end.replace("-", " ")}. See 'spindle thread show ${threadId}'; send another prompt with 'spindle thread send ${threadId} --prompt …'.`
        })
      )
    : Effect.void

export const setupCommand = (args: ReadonlyArray<string>) => {
  const [sub, ...rest] = args
  if (sub !== "rerun") throw new UsageError("usage: spindle setup rerun <thread> [--follow]")
  const { values, positionals, global } = parse(rest, { follow: { type: "boolean" } }, 1)
  const threadId = positionals[0]!
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        const from = (yield* client["server.getStatus"]()).sequence
        const progress =
          values.follow === true && !global.json
            ? yield* Effect.forkChild(
                followThread(client, threadId, from, write, { untilSetupFinished: true })
              )
            : undefined
        const result = yield* client["orchestration.dispatchCommand"]({
          command: { type: "thread.setup.rerun", commandId: commandId("rerun"), threadId }
        })
        if (progress !== undefined) yield* Effect.ignore(Fiber.await(progress))
        const thread = yield* client["thread.get"]({ threadId: threadId as ThreadId })
        if (
          progress !== undefined &&
          thread.setup.status !== "succeeded" &&
          thread.setup.status !== "no-script"
        ) {
          return yield* new ExitWith({
            code: EXIT.failed,
            message: `setup ${thread.setup.status}. See 'spindle thread logs ${threadId}'.`
          })
        }
        return { sequence: result.sequence, setup: thread.setup.status }
      }),
    (r) => `Setup ${r.setup} for ${threadId}`
  )
}
