// The flags every client command takes, before or after the subcommand (`spindle --json thread
// list` = `spindle thread list --json`): effect/cli global settings, read by handlers.

import * as Flag from "effect/cli/Flag"
import * as GlobalFlag from "effect/cli/GlobalFlag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

export const Json = GlobalFlag.Setting("json")({
  flag: Flag.Boolean("json").pipe(
    Flag.withDescription('Print results as JSON on stdout (errors too: {"error": {reason, message}})'),
    Flag.withDefault(false)
  )
})

export const Url = GlobalFlag.Setting("url")({
  flag: Flag.String("url").pipe(
    Flag.withDescription("The server's URL (default: SPINDLE_URL, then <home>/server.json)"),
    Flag.optional
  )
})

export const Token = GlobalFlag.Setting("token")({
  flag: Flag.String("token").pipe(
    Flag.withDescription("A client token (default: SPINDLE_TOKEN, then <home>/owner-token)"),
    Flag.optional
  )
})

export const Home = GlobalFlag.Setting("home")({
  flag: Flag.String("home").pipe(
    Flag.withDescription("Spindle's state directory (default: SPINDLE_HOME, then ~/.spindle)"),
    Flag.optional
  )
})

export const GLOBAL_FLAGS = [Json, Url, Token, Home] as const

export interface GlobalOptions {
  readonly json: boolean
  readonly url: string | undefined
  readonly token: string | undefined
  readonly home: string | undefined
}

export const globalOptions: Effect.Effect<
  GlobalOptions,
  never,
  GlobalFlag.Setting.Identifier<"json" | "url" | "token" | "home">
> = Effect.gen(function* () {
  return {
    json: yield* Json,
    url: Option.getOrUndefined(yield* Url),
    token: Option.getOrUndefined(yield* Token),
    home: Option.getOrUndefined(yield* Home)
  }
})
