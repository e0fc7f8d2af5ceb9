// `spindle open`: asks the server (with an admin token, normally the owner token) for a one-time
// sign-in code, prints the board's sign-in link and opens it in a browser where there is one. The
// link works once, within a minute; the browser trades it for a session cookie and the address
// bar ends at `/`. Self-contained so it can move into another CLI as is: it needs a connected
// client, the server's URL and its options, and imports nothing of the server.
import { spawn } from "node:child_process"
import type { BoardSignInCode } from "@spindle/contracts"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import { discover, withClient } from "./connect.ts"
import { globalOptions } from "./globals.ts"
import { print } from "./output.ts"
import type { SpindleClient } from "./rpcClient.ts"

export interface OpenOptions {
  /** Try to open a browser (default); false only prints the link. */
  readonly browser: boolean
}

export interface OpenResult extends BoardSignInCode {
  readonly url: string
  /** The program that was asked to open the link, or null when none was tried. */
  readonly openedWith: string | null
}

/** The program that opens a URL here, if any: $BROWSER, else the desktop's opener. */
export const browserCommand = (env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | null => {
  if (env.BROWSER !== undefined && env.BROWSER !== "") return env.BROWSER
  if (platform === "darwin") return "open"
  if (platform === "win32") return "explorer"
  return env.DISPLAY !== undefined || env.WAYLAND_DISPLAY !== undefined ? "xdg-open" : null
}

/** Starts the browser detached; a browser that fails to start is no failure (the link is printed). */
const launch = (command: string, url: string) =>
  Effect.sync(() => {
    try {
      const child = spawn(command, [url], { detached: true, stdio: "ignore" })
      child.on("error", () => {})
      child.unref()
      return true
    } catch {
      return false
    }
  })

export const openBoard = (client: SpindleClient, serverUrl: string, options: OpenOptions) =>
  Effect.gen(function* () {
    const code = yield* client["board.createSignInCode"]()
    const url = `${serverUrl.replace(/\/+$/, "")}${code.path}`
    const command = options.browser ? browserCommand(process.env, process.platform) : null
    const opened = command === null ? false : yield* launch(command, url)
    const result: OpenResult = { ...code, url, openedWith: opened ? command : null }
    return result
  })

export const renderOpen = (result: OpenResult) =>
  [
    result.openedWith === null
      ? "Open this link in a browser on this machine to sign in to the board:"
      : `Opened the board with ${result.openedWith}; if no browser came up, open this link:`,
    `  ${result.url}`,
    `It works once, until ${result.expiresAt}.`
  ].join("\n")

export const openCommand = Command.make(
  "open",
  {
    noBrowser: Flag.Boolean("no-browser").pipe(
      Flag.withDescription("Only print the link, do not start a browser"),
      Flag.withDefault(false)
    )
  },
  ({ noBrowser }) =>
    Effect.gen(function* () {
      const global = yield* globalOptions
      const serverUrl = discover(global, process.env).url ?? ""
      const result = yield* withClient((client) =>
        openBoard(client, serverUrl, { browser: !noBrowser && !global.json })
      )
      yield* print(result, renderOpen)
    })
).pipe(
  Command.withDescription(
    "Sign a browser in to the web board: prints (and opens) a link that works once, within a minute"
  )
)
