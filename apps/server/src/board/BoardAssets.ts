// The board's JavaScript and CSS, bundled by esbuild from apps/board/src the first time a browser
// asks for them (a few hundred ms), then kept in memory for the life of the server. Building at
// run time means `npm ci && npm start` serves the board with no build step to forget and no
// generated file to go stale; esbuild is loaded only then, so the CLI and a server nobody browses
// never pay for it.
import { createHash } from "node:crypto"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { SpindleError } from "@spindle/contracts"
import { findUpwards } from "@spindle/shared/fs"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Semaphore from "effect/Semaphore"

export interface BoardBundle {
  readonly js: Uint8Array
  readonly css: Uint8Array
  /** A hash of both, for ETag and cache busting. */
  readonly version: string
  readonly buildMs: number
}

/**
 * The board's entry, found from this module upwards: from the sources (apps/server/src/board) and
 * from the CLI's bundle (apps/server/dist/<build>) alike, the checkout's apps/board/src.
 */
const findBoardEntry = () =>
  findUpwards(dirname(fileURLToPath(import.meta.url)), "apps/board/src/main.tsx") ??
  fileURLToPath(new URL("../../../board/src/main.tsx", import.meta.url))

export const BOARD_ENTRY = findBoardEntry()

/** Bundles the board (minified, for the browser). */
export const buildBoard = Effect.tryPromise({
  try: async () => {
    const started = performance.now()
    const esbuild = await import("esbuild")
    const result = await esbuild.build({
      entryPoints: [BOARD_ENTRY],
      bundle: true,
      write: false,
      outdir: "/board-out",
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: true,
      jsx: "automatic",
      jsxImportSource: "preact",
      legalComments: "none",
      logLevel: "silent",
      define: { "process.env.NODE_ENV": '"production"' }
    })
    const file = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))?.contents
    const js = file(".js")
    if (js === undefined) throw new Error("esbuild produced no JavaScript")
    const css = file(".css") ?? new Uint8Array()
    const version = createHash("sha256").update(js).update(css).digest("hex").slice(0, 16)
    const bundle: BoardBundle = { js, css, version, buildMs: Math.round(performance.now() - started) }
    return bundle
  },
  catch: (error) =>
    new SpindleError({
      reason: "internal",
      message: `Could not build the board (${String(error).split("\n")[0]}). Run 'npm ci' to reinstall its dependencies.`
    })
})

export class BoardAssets extends Context.Service<
  BoardAssets,
  {
    /** The bundle, built once on first use; a failed build is retried on the next request. */
    readonly bundle: Effect.Effect<BoardBundle, SpindleError>
  }
>()("spindle/board/BoardAssets") {
  static readonly layer = Layer.effect(
    BoardAssets,
    Effect.gen(function* () {
      let built: BoardBundle | undefined
      const lock = yield* Semaphore.make(1)
      const bundle = lock.withPermit(
        Effect.suspend(() =>
          built !== undefined
            ? Effect.succeed(built)
            : Effect.tap(buildBoard, (b) =>
                Effect.andThen(
                  Effect.sync(() => {
                    built = b
                  }),
                  Effect.logInfo(`Built the board in ${b.buildMs} ms`)
                )
              )
        )
      )
      return { bundle }
    })
  )
}
