// Which Chromium the board's tests drive. The system's (Debian's /usr/bin/chromium) when there is
// one; otherwise the headless Chromium that ships inside the @sparticuz/chromium package from the
// npm registry (a devDependency, so `npm ci` brings it: nothing is downloaded at test time). Its
// binary and the few libraries it needs (NSS, expat) are compressed in the package; the first use
// unpacks them once under node_modules/.cache. SPINDLE_TEST_CHROMIUM names another browser; a path
// that does not exist there means "no system browser" (how CI proves the packaged one works).
import { spawnSync } from "node:child_process"
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { pipeline } from "node:stream/promises"
import { createBrotliDecompress } from "node:zlib"

export interface BrowserChoice {
  readonly executablePath: string
  /** Where it came from, for messages: "system" or "npm package". */
  readonly source: "system" | "npm package"
  readonly env: Record<string, string>
  readonly args: ReadonlyArray<string>
}

const SYSTEM = "/usr/bin/chromium"

/** The browser the tests use, unpacking the packaged one on first use. */
export const chooseBrowser = async (repoRoot: string): Promise<BrowserChoice> => {
  const named = process.env.SPINDLE_TEST_CHROMIUM
  const system = named === undefined || named === "" ? SYSTEM : named
  if (existsSync(system)) return { executablePath: system, source: "system", env: {}, args: [] }
  return packagedBrowser(repoRoot)
}

const packagedBrowser = async (repoRoot: string): Promise<BrowserChoice> => {
  const require = createRequire(join(repoRoot, "package.json"))
  let root: string
  try {
    // Its exports name no package.json: from its entry, build/index.js, up to its folder.
    root = dirname(dirname(require.resolve("@sparticuz/chromium")))
  } catch {
    throw new Error("No Chromium: /usr/bin/chromium is missing and so is @sparticuz/chromium. Run `npm ci`.")
  }
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }
  const bin = join(root, "bin")
  const dir = join(repoRoot, "node_modules", ".cache", `spindle-chromium-${version}`)
  if (!existsSync(join(dir, "chromium"))) await unpack(bin, dir)
  return {
    executablePath: join(dir, "chromium"),
    source: "npm package",
    env: { LD_LIBRARY_PATH: join(dir, "lib"), FONTCONFIG_PATH: join(dir, "fonts") },
    // A headless-shell build: no zygote, one process (it cannot drop privileges in a sandbox here).
    args: ["--no-zygote", "--single-process", "--headless=shell"]
  }
}

/** Unpacks the package's browser into `dir`, whole or not at all (a half-unpacked dir never shows). */
const unpack = async (bin: string, dir: string) => {
  mkdirSync(dirname(dir), { recursive: true })
  const staging = mkdtempSync(`${dir}.partial-`)
  try {
    await pipeline(
      createReadStream(join(bin, "chromium.br")),
      createBrotliDecompress(),
      createWriteStream(join(staging, "chromium"), { mode: 0o755 })
    )
    for (const archive of ["al2023.tar.br", "fonts.tar.br", "swiftshader.tar.br"]) {
      const tar = join(staging, archive.replace(/\.br$/, ""))
      await pipeline(createReadStream(join(bin, archive)), createBrotliDecompress(), createWriteStream(tar))
      const into = archive === "fonts.tar.br" ? join(staging, "fonts") : staging
      mkdirSync(into, { recursive: true })
      const untar = spawnSync("tar", ["-xf", tar, "-C", into], { encoding: "utf8" })
      if (untar.status !== 0) throw new Error(`unpacking ${archive} failed: ${untar.stderr}`)
      rmSync(tar)
    }
    // Its fonts.conf names Lambda's folders; this one names where the fonts really are.
    writeFileSync(
      join(staging, "fonts", "fonts.conf"),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(dir, "fonts", "fonts")}</dir>\n  <cachedir>${join(dir, "fonts-cache")}</cachedir>\n</fontconfig>\n`
    )
    try {
      renameSync(staging, dir)
    } catch (error) {
      // Another run unpacked it first: use theirs.
      if (!existsSync(join(dir, "chromium"))) throw error
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}
