// `spindle serve` on its own: the same serve command and global flags as the whole tree, without
// building or loading the client commands, which is a good part of a start. bin/spindle.mjs comes
// here only for `serve` without --help or --version; everything else goes through main.ts.
import * as Command from "effect/cli/Command"
import { GLOBAL_FLAGS } from "./globals.ts"
import { runCli } from "./run.ts"
import { serveCommand } from "./serverCommands.ts"

const root = Command.make("spindle").pipe(
  Command.withSubcommands([serveCommand]),
  Command.withGlobalFlags(GLOBAL_FLAGS)
)

export const main = (argv: ReadonlyArray<string>) => runCli(root, argv, true)
