// The `spindle` command: picks the subcommand, turns usage mistakes into exit code 2 and
// startup failures into a one-line message and exit code 1. Client subcommands are in commands.ts.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { serve, teardown } from "../main.ts"
import { setupCommand, threadCommand } from "./commands.ts"
import { exitWhenFlushed } from "./exit.ts"
import { worktreesCommand } from "./lifecycleCommands.ts"
import { openCommand } from "./open.ts"
import { projectCommand } from "./projectCommands.ts"
import { tokenCommand } from "./tokenCommands.ts"
import { EXIT, HELP, parseServeArgs, UsageError } from "./usage.ts"

/** For `serve`, whose runtime would otherwise end the process with its own code. */
const fail = (code: number, message: string): never => {
  process.stderr.write(`spindle: ${message}\n`)
  process.exit(code)
}

const usageFailure = (code: number, message: string) => {
  process.stderr.write(`spindle: ${message}\n`)
  exitWhenFlushed(code)
}

export const main = (argv: ReadonlyArray<string>) => {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP)
      return exitWhenFlushed(command === undefined ? EXIT.usage : EXIT.ok)
    case "serve": {
      let settings: ReturnType<typeof parseServeArgs>
      try {
        settings = parseServeArgs(rest, process.env)
      } catch (error) {
        return fail(error instanceof UsageError ? EXIT.usage : EXIT.failed, (error as Error).message)
      }
      const program = serve(settings).pipe(
        Effect.catchTags({
          DatabaseError: (error) => Effect.sync(() => fail(EXIT.failed, error.message)),
          HomeLockError: (error) => Effect.sync(() => fail(EXIT.failed, error.message)),
          ServeError: (error) =>
            Effect.sync(() =>
              fail(
                EXIT.failed,
                `cannot listen on ${settings.host}:${settings.port} (${String(error.cause ?? error.message)}). ` +
                  "Is another server running there? Pass --port 0 or another port."
              )
            )
        })
      )
      return NodeRuntime.runMain(program, { teardown })
    }
    case "open":
    case "project":
    case "thread":
    case "setup":
    case "token":
    case "worktrees": {
      const run = {
        open: openCommand,
        project: projectCommand,
        thread: threadCommand,
        setup: setupCommand,
        token: tokenCommand,
        worktrees: worktreesCommand
      }[command]
      try {
        return run(rest)
      } catch (error) {
        return usageFailure(error instanceof UsageError ? EXIT.usage : EXIT.failed, (error as Error).message)
      }
    }
    default:
      return usageFailure(EXIT.usage, `unknown command '${command}'. Run 'spindle help' for the commands.`)
  }
}
