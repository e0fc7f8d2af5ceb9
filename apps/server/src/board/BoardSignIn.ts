// Signing a browser in to the board: one-time codes (made by an admin over the WebSocket API,
// valid for a minute, good for one use) traded for a client token with `read` and `operate` that
// lives in an HttpOnly cookie. A browser that still holds a live session keeps it (no new token),
// and at most MAX_BOARD_SESSIONS board tokens live at once (the oldest are revoked), so running
// `spindle open` in a loop grows nothing. Codes are kept in memory only, as hashes: a restart voids
// the ones not yet used. Cookies and HTTP are the routes' (boardRoutes.ts), not this file's.
import { randomBytes } from "node:crypto"
import { type BoardSignInCode, SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { SqlError } from "effect/sql/SqlError"
import { ClientTokens } from "../auth/ClientTokens.ts"
import { sha256 } from "../auth/tokenHash.ts"

/** How long a code may wait for its browser. */
export const SIGN_IN_CODE_TTL_SECONDS = 60
/** How long a board session (its cookie and its client token) lasts. */
export const BOARD_SESSION_SECONDS = 7 * 24 * 3600
/** Codes not yet used at once; past it the oldest go first (a loop cannot grow memory). */
const MAX_PENDING_CODES = 64
/** Board sessions (browsers signed in) alive at once; a new one past it ends the oldest. */
export const MAX_BOARD_SESSIONS = 8
const BOARD_TOKEN_NAME = "board"

export type BoardSession =
  | {
      readonly _tag: "Created"
      readonly token: string
      readonly tokenId: string
      readonly maxAgeSeconds: number
    }
  /** The browser's own live session was kept: its cookie stays as it is. */
  | { readonly _tag: "Kept"; readonly tokenId: string }

export class BoardSignIn extends Context.Service<
  BoardSignIn,
  {
    /** A new one-time code, valid for SIGN_IN_CODE_TTL_SECONDS. */
    readonly createCode: () => Effect.Effect<BoardSignInCode>
    /**
     * Trades a code for a new client token (`read`, `operate`), or keeps `current` (the live board
     * session the browser already holds); the code is spent whatever the outcome. `unauthorized`
     * for an unknown, used or expired code.
     */
    readonly redeem: (
      code: string | undefined,
      current?: string
    ) => Effect.Effect<BoardSession, SpindleError | SqlError>
  }
>()("spindle/board/BoardSignIn") {
  static readonly layer = Layer.effect(
    BoardSignIn,
    Effect.gen(function* () {
      const tokens = yield* ClientTokens
      /** sha256(code) as hex -> expiry in epoch ms. Insertion order is age order. */
      const pending = new Map<string, number>()
      const keyOf = (code: string) => sha256(code).toString("hex")

      const createCode = Effect.fn("BoardSignIn.createCode")(function* () {
        const now = yield* DateTime.now
        const code = randomBytes(32).toString("base64url")
        const expiresAt = DateTime.add(now, { seconds: SIGN_IN_CODE_TTL_SECONDS })
        for (const [key, expiry] of pending) {
          if (expiry <= DateTime.toEpochMillis(now)) pending.delete(key)
        }
        while (pending.size >= MAX_PENDING_CODES) pending.delete(pending.keys().next().value!)
        pending.set(keyOf(code), DateTime.toEpochMillis(expiresAt))
        const answer: BoardSignInCode = {
          code,
          path: `/signin?code=${code}`,
          expiresAt: DateTime.formatIso(expiresAt)
        }
        return answer
      })

      const refused = (message: string) =>
        new SpindleError({
          reason: "unauthorized",
          message: `${message} Run 'spindle open' for a new sign-in link.`
        })

      const redeem = Effect.fn("BoardSignIn.redeem")(function* (code: string | undefined, current?: string) {
        if (code === undefined || !/^[A-Za-z0-9_-]{43}$/.test(code)) {
          return yield* refused("This sign-in link has no valid code.")
        }
        const key = keyOf(code)
        const expiry = pending.get(key)
        // Spent before anything else: two requests racing with one code get one session.
        pending.delete(key)
        if (expiry === undefined) return yield* refused("This sign-in code was already used or is unknown.")
        if (expiry <= DateTime.toEpochMillis(yield* DateTime.now)) {
          return yield* refused("This sign-in code expired (codes last a minute).")
        }
        if (current !== undefined) {
          const kept: BoardSession = { _tag: "Kept", tokenId: current }
          return kept
        }
        const created = yield* tokens.create({
          name: BOARD_TOKEN_NAME,
          scopes: ["read", "operate"],
          expiresInSeconds: BOARD_SESSION_SECONDS
        })
        const ended = yield* tokens.trimNamed(BOARD_TOKEN_NAME, MAX_BOARD_SESSIONS)
        yield* Effect.logInfo("Signed a browser in to the board").pipe(
          Effect.annotateLogs({ tokenId: created.id, ended: ended.join(",") })
        )
        const session: BoardSession = {
          _tag: "Created",
          token: created.token,
          tokenId: created.id,
          maxAgeSeconds: BOARD_SESSION_SECONDS
        }
        return session
      })

      return { createCode, redeem }
    })
  )
}
