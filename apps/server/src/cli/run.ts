// How the `spindle` command runs a command tree: help and usage errors as shown, and every
// outcome as an exit code (see errors.ts) once all output has reached stdout and stderr. Used by
// main.ts (the whole tree) and serveMain.ts (`spindle serve` alone, which starts faster).
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
import { CliFailure, EXIT } from "./errors.ts"
import { writeErrorLine, writeLine } from "./output.ts"

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
    writeLine(JSON.stringify({ error }, null, 2))
  } else
    writeErrorLine(`spindle: ${failure.showReason === true ? `${failure.reason}: ` : ""}${failure.message}`)
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

export const runCli = <Name extends string, Input, ContextInput, E>(
  root: Command.Command<Name, Input, ContextInput, E, NodeServices.NodeServices>,
  argv: ReadonlyArray<string>,
  /** Whether this runs the server (`spindle serve`): then Ctrl-C and SIGTERM are a clean stop. */
  serving: boolean
) => {
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
    teardown: teardown(serving)
  })
}
