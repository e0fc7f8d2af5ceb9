// The board's session routes over the real server in-process and its real SQLite file: a sign-out
// whose revoke failed says so (and the session still works, so the retry can succeed), and signing
// in again and again neither mints a token per sign-in for a browser that is signed in nor lets
// the live board tokens grow past their bound; the snapshot the page preloads is its session's only.
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Snapshot } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { makeClient } from "../cli/rpcClient.ts"
import { gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { MAX_BOARD_SESSIONS } from "./BoardSignIn.ts"

const boardWorld = Effect.gen(function* () {
  const server = yield* inProcessServer()
  const client = yield* makeClient({ url: server.url, token: server.ownerToken })
  /** Follows a fresh sign-in link; answers the cookie it set (`name=value`), if any. */
  const signIn = (cookie?: string) =>
    Effect.gen(function* () {
      const code = yield* client["board.createSignInCode"]()
      return yield* Effect.promise(async () => {
        const response = await fetch(`${server.url}${code.path}`, {
          redirect: "manual",
          headers: cookie === undefined ? {} : { cookie }
        })
        assert.strictEqual(response.status, 303)
        return response.headers.get("set-cookie")?.split(";")[0]
      })
    })
  const session = (cookie: string) =>
    Effect.promise(async () => (await fetch(`${server.url}/board/session`, { headers: { cookie } })).status)
  const signOut = (cookie: string) =>
    Effect.promise(async () => {
      const response = await fetch(`${server.url}/signout`, {
        method: "POST",
        headers: { cookie, origin: server.url }
      })
      const text = await response.text()
      return { status: response.status, body: text === "" ? undefined : JSON.parse(text) }
    })
  /** Live board tokens, and board rows of any state, as the database holds them. */
  const boardTokens = Effect.map(client["token.list"](), (tokens) => {
    const board = tokens.filter((t) => t.kind === "client" && t.name === "board")
    return {
      live: board.filter((t) => t.revokedAt === null && (t.expiresAt ?? "9") > new Date().toISOString())
        .length,
      rows: board.length
    }
  })
  return { server, signIn, session, signOut, boardTokens }
})

describe("board sign-out", () => {
  it.live(
    "answers 500 with a reason when the revoke failed; the session still works, and a retry signs out",
    () =>
      Effect.gen(function* () {
        const world = yield* boardWorld
        const cookie = (yield* world.signIn())!
        assert.strictEqual(yield* world.session(cookie), 200)
        // The database refuses the revoke (as a full or read-only disk would), through a real trigger.
        const db = new DatabaseSync(join(world.server.home, "spindle.db"))
        db.exec(`CREATE TRIGGER refuse_revoke BEFORE UPDATE OF revoked_at ON client_tokens
        BEGIN SELECT RAISE(ABORT, 'disk full'); END`)
        const failed = yield* world.signOut(cookie)
        assert.strictEqual(failed.status, 500)
        assert.strictEqual(failed.body.reason, "internal")
        assert.include(failed.body.message, "could not be revoked")
        assert.strictEqual(yield* world.session(cookie), 200)
        db.exec("DROP TRIGGER refuse_revoke")
        db.close()
        assert.strictEqual((yield* world.signOut(cookie)).status, 204)
        assert.strictEqual(yield* world.session(cookie), 401)
      })
  )
})

describe("board sign-in tokens", () => {
  it.live("a browser that is signed in keeps its session: signing in again mints no token", () =>
    Effect.gen(function* () {
      const world = yield* boardWorld
      const cookie = (yield* world.signIn())!
      for (let i = 0; i < 3; i++) assert.isUndefined(yield* world.signIn(cookie))
      assert.strictEqual(yield* world.session(cookie), 200)
      assert.deepStrictEqual(yield* world.boardTokens, { live: 1, rows: 1 })
    })
  )

  it.live(
    `at most ${MAX_BOARD_SESSIONS} board sessions live; the oldest end first, and dead rows do not pile up`,
    () =>
      Effect.gen(function* () {
        const world = yield* boardWorld
        const cookies: Array<string> = []
        for (let i = 0; i < MAX_BOARD_SESSIONS * 3; i++) cookies.push((yield* world.signIn())!)
        const tokens = yield* world.boardTokens
        assert.strictEqual(tokens.live, MAX_BOARD_SESSIONS)
        assert.isAtMost(tokens.rows, MAX_BOARD_SESSIONS * 2)
        // The newest browsers are still signed in; the oldest were signed out.
        assert.strictEqual(yield* world.session(cookies.at(-1)!), 200)
        assert.strictEqual(yield* world.session(cookies.at(-MAX_BOARD_SESSIONS)!), 200)
        assert.strictEqual(yield* world.session(cookies.at(-MAX_BOARD_SESSIONS - 1)!), 401)
        assert.strictEqual(yield* world.session(cookies[0]!), 401)
      })
  )
})

describe("board snapshot", () => {
  it.live("answers the signed-in board the state it starts from, as the socket's snapshot; nobody else", () =>
    Effect.gen(function* () {
      const world = yield* boardWorld
      const client = yield* makeClient({ url: world.server.url, token: world.server.ownerToken })
      const repo = yield* gitRepo
      yield* client["orchestration.dispatchCommand"]({
        command: {
          type: "project.create",
          commandId: "c-p",
          projectId: "p1",
          title: "P",
          workspaceRoot: repo
        }
      })
      const get = (headers: Record<string, string>) =>
        Effect.promise(async () => {
          const response = await fetch(`${world.server.url}/board/snapshot`, { headers })
          return {
            status: response.status,
            cache: response.headers.get("cache-control"),
            body: (await response.json()) as { reason?: string; message?: string }
          }
        })
      const anonymous = yield* get({})
      assert.strictEqual(anonymous.status, 401)
      assert.strictEqual(anonymous.body.reason, "unauthorized")
      assert.include(anonymous.body.message, "spindle open")
      const forged = yield* get({ cookie: `${(yield* world.signIn())!.split("=")[0]}=spc_forged` })
      assert.strictEqual(forged.status, 401)

      const cookie = (yield* world.signIn())!
      const answered = yield* get({ cookie })
      assert.strictEqual(answered.status, 200)
      assert.strictEqual(answered.cache, "no-store")
      const snapshot = Schema.decodeUnknownSync(Snapshot)(answered.body)
      const viaSocket = yield* client["orchestration.getSnapshot"]()
      assert.isAbove(snapshot.sequence, 0)
      assert.deepStrictEqual(snapshot, viaSocket)
      assert.deepStrictEqual(
        snapshot.projects.map((p) => p.id),
        ["p1"]
      )
    })
  )
})
