// The `spindle` command, built on effect/cli: the command tree, how help and usage errors are
// shown, and how every outcome becomes an exit code (see errors.ts) once all output has reached
// stdout and stderr. Client commands connect lazily (connect.ts); `serve` imports the server only
// when it runs, so no other command loads it.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as CliConfig from "effect/cli/CliConfig"
import * as CliError from "effect/cli/CliError"
import * as CliOutput from "effect/cli/CliOutput"
import * as Command from "effect/cli/Command"
import * as GlobalFlag from "effect/cli/GlobalFlag"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { Teardown } from "effect/Runtime"
import { VERSION } from "../version.ts"
import { completionCommand } from "./completionCommand.ts"
import { CliFailure, EXIT, EXIT_CODES_HELP } from "./errors.ts"
import { GLOBAL_FLAGS } from "./globals.ts"
import { openCommand } from "./open.ts"
import { projectCommand } from "./projectCommands.ts"
import { serveCommand, statusCommand, stopCommand } from "./serverCommands.ts"
import { setupCommand } from "./setupCommands.ts"
import { threadCommand } from "./threadCommands.ts"
import { tokenCommand } from "./tokenCommands.ts"
import { worktreesCommand } from "./worktreeCommands.ts"

const description = `Thread orchestration server for coding agents, and its client.

Client commands find the server through --url, SPINDLE_URL or <home>/server.json, and
authenticate with --token, SPINDLE_TOKEN or <home>/owner-token (<home>: --home, SPINDLE_HOME,
~/.spindle).

${EXIT_CODES_HELP}`

const commands = [
  serveCommand,
  statusCommand,
  stopCommand,
  projectCommand,
  threadCommand,
  setupCommand,
  worktreesCommand,
  tokenCommand,
  openCommand
] as const

const tree = <const Extra extends ReadonlyArray<Command.Command.Any>>(extra: Extra) =>
  Command.make("spindle").pipe(
    Command.withDescription(description),
    Command.withSubcommands([...commands, ...extra]),
    Command.withGlobalFlags(GLOBAL_FLAGS)
  )

/**
 * Completion scripts are generated from the tree of the other commands (plus `completion` itself),
 * built only when a script is asked for: building the tree is a good part of every start.
 */
const root = tree([completionCommand(() => tree([completionCommand(() => Command.make("spindle"))]))])

/** The flags that take a value, wherever they stand (global flags may come before the command). */
const VALUE_FLAGS = new Set(["--url", "--token", "--home"])

/** The subcommand named on the command line (the first word that is not a global flag or its value). */
const subcommandOf = (argv: ReadonlyArray<string>) => {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (VALUE_FLAGS.has(arg)) i++
    else if (!arg.startsWith("-")) return arg
  }
  return undefined
}

const jsonRequested = (argv: ReadonlyArray<string>) => {
  const end = argv.indexOf("--")
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json")
}

/** Help on stdout; usage errors are reported once, by `report` below. */
const presenter: CliOutput.Presenter = {
  present: (event) =>
    Effect.gen(function* () {
      const formatter = yield* CliOutput.Formatter
      if (event._tag === "Help") process.stdout.write(`${formatter.formatHelpDoc(event.helpDoc)}\n`)
      if (event._tag === "Version") process.stdout.write(`spindle ${event.version}\n`)
    })
}

const writeError = (json: boolean, failure: CliFailure) => {
  if (json) {
    const error = { reason: failure.reason, message: failure.message, ...failure.details }
    process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`)
  } else process.stderr.write(`spindle: ${failure.message}\n`)
}

/** A usage error from effect/cli, as a CliFailure naming where to read more. */
const usageFailure = (error: CliError.ShowHelp) => {
  const path = error.commandPath.join(" ")
  const messages = error.errors.map((e) =>
    e.message.replace(/\n\n {2}Did you mean this\?\n {4}/, " Did you mean: ")
  )
  return new CliFailure({
    code: EXIT.usage,
    reason: "usage",
    message: `${messages.join("\n")}\nRun '${path} --help' for its usage.`,
    details: { command: path }
  })
}

/** The exit code for how the program ended, after saying what went wrong. */
const report = (argv: ReadonlyArray<string>) => (cause: Cause.Cause<unknown>) =>
  Effect.sync(() => {
    const json = jsonRequested(argv)
    if (Cause.hasInterruptsOnly(cause)) return EXIT.interrupted
    const error = Cause.squash(cause)
    if (error instanceof CliFailure) {
      writeError(json, error)
      return error.code
    }
    if (CliError.isCliError(error)) {
      if (error._tag === "ShowHelp") {
        // No errors: a command group without its subcommand; its help was printed.
        if (error.errors.length === 0) return EXIT.usage
        writeError(json, usageFailure(error))
        return EXIT.usage
      }
      writeError(json, new CliFailure({ code: EXIT.usage, reason: "usage", message: error.message }))
      return EXIT.usage
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
    writeError(json, new CliFailure({ code: EXIT.failed, reason: "internal", message }))
    return EXIT.failed
  })

/**
 * Ends the process with the program's code once stdout and stderr have handed everything
 * written to the OS: `process.exit` right after a write cuts a pipe off at its buffer.
 */
const teardown =
  (serving: boolean): Teardown =>
  (exit) => {
    // A server stopped by SIGTERM or Ctrl-C stopped cleanly.
    const code = Exit.isSuccess(exit)
      ? (exit.value as number)
      : Exit.hasInterrupts(exit)
        ? serving
          ? EXIT.ok
          : EXIT.interrupted
        : EXIT.failed
    process.exitCode = code
    let pending = 2
    const flushed = () => {
      pending -= 1
      if (pending === 0) process.exit(code)
    }
    for (const stream of [process.stdout, process.stderr]) {
      // A reader that went away (EPIPE, `| head`) leaves nobody to tell: exit, do not crash.
      stream.once("error", () => process.exit(code))
      stream.write("", flushed)
    }
  }

export const main = (argv: ReadonlyArray<string>) => {
  const program = Command.runWith(root, { version: VERSION })(argv).pipe(
    Effect.as(EXIT.ok as number),
    Effect.catchCause(report(argv)),
    Effect.provide(NodeServices.layer),
    Effect.provideService(CliOutput.Presenter, presenter),
    Effect.provideService(
      CliConfig.CliConfig,
      CliConfig.make({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })
    )
  )
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    teardown: teardown(subcommandOf(argv) === "serve")
  })
}
