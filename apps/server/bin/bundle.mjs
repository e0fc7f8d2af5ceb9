// Keeps a bundle of the `spindle` sources (CLI and server, with their dependencies) in
// apps/server/dist, rebuilt with esbuild whenever a source file or the installed packages changed
// since the last build. One module instead of hundreds is what makes a CLI command start fast.
// Builds go to a fresh folder that current.json then points to (written by rename), so
// concurrent runs never see half a bundle. Any failure here means "run from the sources".
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const serverRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const checkout = resolve(serverRoot, "../..")
const dist = join(serverRoot, "dist")
const current = join(dist, "current.json")
/** Changes with every `npm ci` / `npm install` in the checkout. */
const lockfile = join(checkout, "node_modules/.package-lock.json")

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

const build = async () => {
  const esbuild = await import("esbuild")
  const dir = `build-${process.pid}-${Date.now()}`
  const result = await esbuild.build({
    absWorkingDir: checkout,
    entryPoints: {
      main: join(serverRoot, "src/cli/main.ts"),
      serve: join(serverRoot, "src/cli/serveMain.ts")
    },
    outdir: join(dist, dir),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    logLevel: "silent",
    legalComments: "none",
    // Loaded at run time by the server (it bundles the board), with its own native binary.
    external: ["esbuild"],
    // Some dependencies are CommonJS and require() Node's modules.
    banner: {
      js: 'import { createRequire as __spindleRequire } from "node:module"; const require = __spindleRequire(import.meta.url);'
    }
  })
  const inputs = {}
  for (const file of Object.keys(result.metafile.inputs)) {
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
 * The bundle's entry module `name` (`main`, or `serve` for `spindle serve` alone), built or
 * rebuilt first when needed, or undefined to run the sources.
 */
export const bundledEntry = async (name = "main") => {
  try {
    const meta = readCurrent()
    const dir =
      meta !== undefined && isFresh(meta) && existsSync(join(dist, meta.dir, `${name}.js`))
        ? meta.dir
        : await build()
    return pathToFileURL(join(dist, dir, `${name}.js`)).href
  } catch (error) {
    if (process.env.SPINDLE_DEBUG_BUNDLE === "1") process.stderr.write(`spindle: no bundle: ${error}\n`)
    return undefined
  }
}
