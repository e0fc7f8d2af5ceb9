// Keeps a bundle of the `spindle` sources (CLI and server, with their dependencies) in
// apps/server/dist, rebuilt with esbuild whenever a source file or the installed packages changed
// since the last build. One module instead of hundreds is what makes a CLI command start fast.
// Builds go to a fresh folder that current.json then points to (written by rename), so
// concurrent runs never see half a bundle. Any failure here means "run from the sources".
//
// Two shapes, one per kind of start:
// - `main.js` (every command but `serve`): ES modules split into chunks, so that a client command
//   loads only the CLI and never the server; Node's compile cache covers their top levels.
// - `serve.cjs` (`spindle serve`): one script, run through V8 with a code cache taken from a
//   server that has already started (serve.cjs.cache). That cache holds every function a start
//   compiles, where Node's compile cache holds only each module's top level; it is written by the
//   first server of a build that has run for a few seconds or stops (see runWithCodeCache).
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Script } from "node:vm"

const serverRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const checkout = resolve(serverRoot, "../..")
/** Where builds go: apps/server/dist, or SPINDLE_BUNDLE_DIR (tests build apart from the checkout's). */
const dist = process.env.SPINDLE_BUNDLE_DIR || join(serverRoot, "dist")
const current = join(dist, "current.json")
/** Changes with every `npm ci` / `npm install` in the checkout. */
const lockfile = join(checkout, "node_modules/.package-lock.json")
/** How long a server runs before its code cache is written (if it has not stopped before). */
const CACHE_AFTER_MS = 3000

const stamp = (file) => {
  try {
    const info = statSync(file)
    return `${info.size}:${info.mtimeMs}`
  } catch {
    return "missing"
  }
}

const readCurrent = () => {
  try {
    return JSON.parse(readFileSync(current, "utf8"))
  } catch {
    return undefined
  }
}

const isFresh = (meta) =>
  meta.lockfile === stamp(lockfile) && Object.entries(meta.inputs).every(([file, s]) => stamp(file) === s)

const common = {
  absWorkingDir: checkout,
  bundle: true,
  platform: "node",
  target: "node22",
  // ASCII output (esbuild's default, stated here because the serve script is read as latin1).
  charset: "ascii",
  minify: true,
  metafile: true,
  logLevel: "silent",
  legalComments: "none",
  // Loaded at run time by the server (it bundles the board), with its own native binary.
  external: ["esbuild"]
}

const MCP_SDK = join(serverRoot, "src/mcp/sdk.ts")
const ACP_SDK = join(serverRoot, "src/providers/acp/acpSdk.ts")
/**
 * In the serve script, McpEndpoint's import of mcp/sdk.ts loads the mcp-sdk.cjs beside it, and
 * AcpAdapter's import of acpSdk.ts the acp-sdk.cjs.
 */
const sdksApart = {
  name: "sdks-apart",
  setup(build) {
    build.onResolve({ filter: /(\/sdk|\/acpSdk)\.ts$/ }, (args) => {
      if (args.kind === "entry-point") return undefined
      const path = resolve(args.resolveDir, args.path)
      if (path === MCP_SDK) return { path: "./mcp-sdk.cjs", external: true }
      if (path === ACP_SDK) return { path: "./acp-sdk.cjs", external: true }
      return undefined
    })
  }
}

const build = async () => {
  const esbuild = await import("esbuild")
  const dir = `build-${process.pid}-${Date.now()}`
  const [client, server] = await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: { main: join(serverRoot, "src/cli/main.ts") },
      outdir: join(dist, dir),
      splitting: true,
      format: "esm",
      // Some dependencies are CommonJS and require() Node's modules.
      banner: {
        js: 'import { createRequire as __spindleRequire } from "node:module"; const require = __spindleRequire(import.meta.url);'
      }
    }),
    esbuild.build({
      ...common,
      // The MCP SDK (with zod and ajv, a third of the server's code) is a file of its own, read on
      // the first /mcp request rather than at every start; so is the ACP SDK, read when an ACP
      // session starts.
      entryPoints: {
        serve: join(serverRoot, "src/cli/serveMain.ts"),
        "mcp-sdk": MCP_SDK,
        "acp-sdk": ACP_SDK
      },
      outdir: join(dist, dir),
      outExtension: { ".js": ".cjs" },
      format: "cjs",
      // import() as require(): a script run through node:vm has no module loader of its own.
      supported: { "dynamic-import": false },
      plugins: [sdksApart],
      // The sources' import.meta, as a script sees it (the bundle sits where main.js does).
      define: { "import.meta.url": "__spindleUrl", "import.meta.dirname": "__dirname" },
      banner: { js: 'const __spindleUrl = require("node:url").pathToFileURL(__filename).href;' }
    })
  ])
  // This file too: a change to how the bundle is built is a reason to build it again.
  const inputs = { [fileURLToPath(import.meta.url)]: stamp(fileURLToPath(import.meta.url)) }
  for (const file of [...Object.keys(client.metafile.inputs), ...Object.keys(server.metafile.inputs)]) {
    if (file.includes("node_modules/")) continue
    const path = resolve(checkout, file)
    inputs[path] = stamp(path)
  }
  const temp = `${current}.${process.pid}`
  writeFileSync(temp, JSON.stringify({ dir, lockfile: stamp(lockfile), inputs }))
  renameSync(temp, current)
  // Earlier builds, once no run can still be loading them.
  for (const name of readdirSync(dist)) {
    if (!name.startsWith("build-") || name === dir) continue
    try {
      if (Date.now() - statSync(join(dist, name)).mtimeMs > 60_000)
        rmSync(join(dist, name), { recursive: true, force: true })
    } catch {}
  }
  return dir
}

/**
 * Runs the script `file` as a CommonJS module, from V8's code cache beside it when there is one
 * that fits. Returns the module's exports.
 *
 * The cache is written when the process exits, or after CACHE_AFTER_MS when there was none that
 * fits: by rename, and only when there was none or this run compiled a good deal more than the
 * cache held (a run that stopped early, at a usage error say, leaves a small one behind).
 */
const runWithCodeCache = (file) => {
  const cacheFile = `${file}.cache`
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {}
  // esbuild writes ASCII, for which latin1 is the same text and decodes several times faster.
  const source = readFileSync(file, "latin1")
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData
  })
  const fits = cachedData !== undefined && !script.cachedDataRejected
  if (process.env.SPINDLE_DEBUG_BUNDLE === "1")
    process.stderr.write(
      `spindle: ${file}: code cache ${cachedData === undefined ? "absent" : fits ? "used" : "rejected"}\n`
    )
  let saved = false
  const save = () => {
    if (saved) return
    saved = true
    try {
      const data = script.createCachedData()
      if (fits && data.length < cachedData.length * 1.25) return
      const temp = `${cacheFile}.${process.pid}`
      writeFileSync(temp, data)
      renameSync(temp, cacheFile)
    } catch {}
  }
  if (!fits) setTimeout(save, CACHE_AFTER_MS).unref()
  process.once("exit", save)
  const module = { exports: {} }
  script
    .runInThisContext()
    .call(module.exports, module.exports, createRequire(file), module, file, dirname(file))
  return module.exports
}

/** Each entry of the bundle: its file in a build, and how it is loaded. */
const ENTRIES = {
  main: { file: "main.js", load: (path) => import(pathToFileURL(path).href) },
  serve: { file: "serve.cjs", load: runWithCodeCache }
}

/**
 * The bundle's entry module `name` (`main`, or `serve` for `spindle serve` alone), built or
 * rebuilt first when needed, loaded; undefined to run the sources.
 */
export const loadBundled = async (name) => {
  const { file, load } = ENTRIES[name]
  let path
  try {
    const meta = readCurrent()
    const dir =
      meta !== undefined && isFresh(meta) && existsSync(join(dist, meta.dir, file)) ? meta.dir : await build()
    path = join(dist, dir, file)
  } catch (error) {
    if (process.env.SPINDLE_DEBUG_BUNDLE === "1") process.stderr.write(`spindle: no bundle: ${error}\n`)
    return undefined
  }
  return load(path)
}
