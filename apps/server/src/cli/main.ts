// The `spindle` command, built on effect/cli: the whole command tree, run by run.ts. Client
// commands connect lazily (connect.ts); `serve` imports the server only when it runs, so no
// other command loads it (and `spindle serve` itself starts from serveMain.ts, without this tree).
import * as Command from "effect/cli/Command"
import { attemptCommand } from "./attemptCommands.ts"
import { completionCommand } from "./completionCommand.ts"
import { EXIT_CODES_HELP } from "./errors.ts"
import { GLOBAL_FLAGS } from "./globals.ts"
import { hostsCommand } from "./hostCommands.ts"
import { openCommand } from "./open.ts"
import { projectCommand } from "./projectCommands.ts"
import { overlapsCommand } from "./radarCommands.ts"
import { runCli } from "./run.ts"
import { serveCommand, statusCommand, stopCommand } from "./serverCommands.ts"
import { setupCommand } from "./setupCommands.ts"
import { storeCommand } from "./storeCommands.ts"
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
  attemptCommand,
  setupCommand,
  worktreesCommand,
  overlapsCommand,
  tokenCommand,
  hostsCommand,
  storeCommand,
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

/** Every command but `spindle serve` itself, which bin/spindle.mjs starts from serveMain.ts. */
export const main = (argv: ReadonlyArray<string>) => runCli(root, argv, false)
