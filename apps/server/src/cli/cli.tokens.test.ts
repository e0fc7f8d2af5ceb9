// `spindle token …` through the real bin against a real server: list shows both kinds, revoke
// takes either kind's id, the owner token is revoked only with --force, rotate-owner replaces it.
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { CommandId, ProjectId, type ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { gitRepo, serverActor } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")

const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env })

/** A server with project `p` and thread `t1`, and the env that points the CLI at it. */
const setup = Effect.gen(function* () {
  const server = yield* inProcessServer()
  const repo = yield* gitRepo
  yield* server.engine.dispatch(
    {
      type: "project.create",
      commandId: CommandId.make("p"),
      projectId: ProjectId.make("p"),
      workspaceRoot: repo
    },
    serverActor
  )
  yield* server.engine.dispatch(
    {
      type: "thread.create",
      commandId: CommandId.make("t1"),
      threadId: "t1" as ThreadId,
      projectId: ProjectId.make("p"),
      title: "t1"
    },
    serverActor
  )
  return { server, env: { SPINDLE_HOME: server.home } }
})

describe("spindle token", () => {
  it.live("list shows client and provider tokens with kind, thread, capabilities and expiry", () =>
    Effect.gen(function* () {
      const { env } = yield* setup
      const issued = JSON.parse(
        (yield* spindle(
          ["token", "issue-mcp", "--thread", "t1", "--capability", "thread-read", "--json"],
          env
        )).stdout
      ) as { id: string; expiresAt: string }
      const listed = yield* spindle(["token", "list"], env)
      assert.strictEqual(listed.code, 0, listed.stderr)
      const lines = listed.stdout.trimEnd().split("\n")
      assert.match(lines[0]!, /^KIND\s+ID\s+FOR\s+SCOPES\/CAPABILITIES\s+EXPIRES\s+STATE$/)
      const provider = lines.find((line) => line.includes(issued.id))!
      assert.match(provider, /^provider\s+ptk_[0-9a-f]{12}\s+thread t1\s+thread-read\s+\S+\s+active$/)
      assert.include(provider, issued.expiresAt)
      const owner = lines.find((line) => line.startsWith("client"))!
      assert.match(owner, /^client\s+tok_[0-9a-f]{12}\s+owner\s+read,operate,admin\s+never\s+owner$/)

      const json = JSON.parse((yield* spindle(["token", "list", "--json"], env)).stdout) as Array<{
        kind: string
        id: string
        threadId?: string
      }>
      assert.sameMembers(
        json.map((t) => t.kind),
        ["client", "provider"]
      )
      assert.strictEqual(json.find((t) => t.kind === "provider")!.threadId, "t1")
    })
  )

  it.live("revoke takes a provider token id; the agent then gets 401 on /mcp", () =>
    Effect.gen(function* () {
      const { server, env } = yield* setup
      const issued = JSON.parse(
        (yield* spindle(["token", "issue-mcp", "--thread", "t1", "--json"], env)).stdout
      ) as {
        id: string
        token: string
      }
      const revoked = yield* spindle(["token", "revoke", issued.id], env)
      assert.strictEqual(revoked.code, 0, revoked.stderr)
      assert.include(revoked.stdout, `Revoked provider token ${issued.id} (thread t1)`)
      const status = yield* Effect.promise(() =>
        fetch(`${server.url}/mcp`, {
          method: "POST",
          headers: { authorization: `Bearer ${issued.token}`, "content-type": "application/json" },
          body: "{}"
        }).then((response) => response.status)
      )
      assert.strictEqual(status, 401)
      const listed = yield* spindle(["token", "list"], env)
      assert.match(listed.stdout.split("\n").find((line) => line.includes(issued.id))!, /revoked$/)
    })
  )

  it.live("revoking the owner token needs --force and says how to get a new one", () =>
    Effect.gen(function* () {
      const { server, env } = yield* setup
      const ownerId = (
        JSON.parse((yield* spindle(["token", "list", "--json"], env)).stdout) as Array<{
          id: string
          owner?: boolean
        }>
      ).find((t) => t.owner === true)!.id
      const refused = yield* spindle(["token", "revoke", ownerId], env)
      assert.strictEqual(refused.code, 1)
      assert.include(refused.stderr, "--force")
      assert.include(refused.stderr, "spindle token rotate-owner")
      assert.include(refused.stderr, "restart")
      assert.strictEqual((yield* spindle(["project", "list"], env)).code, 0, "the owner token still works")

      const forced = yield* spindle(["token", "revoke", ownerId, "--force"], env)
      assert.strictEqual(forced.code, 0, forced.stderr)
      const lockedOut = yield* spindle(["project", "list"], env)
      assert.strictEqual(lockedOut.code, 3)
      assert.strictEqual(readFileSync(join(server.home, "owner-token"), "utf8").trim(), server.ownerToken)
    })
  )

  it.live("rotate-owner writes a new owner token that works, and the old one stops working", () =>
    Effect.gen(function* () {
      const { server, env } = yield* setup
      const rotated = yield* spindle(["token", "rotate-owner"], env)
      assert.strictEqual(rotated.code, 0, rotated.stderr)
      const fresh = readFileSync(join(server.home, "owner-token"), "utf8").trim()
      assert.notStrictEqual(fresh, server.ownerToken)
      assert.include(rotated.stdout, join(server.home, "owner-token"))
      assert.include(rotated.stdout, "then revoked tok_")
      assert.notInclude(rotated.stdout, fresh)
      assert.strictEqual((yield* spindle(["project", "list"], env)).code, 0)
      const old = yield* spindle(["project", "list"], { ...env, SPINDLE_TOKEN: server.ownerToken })
      assert.strictEqual(old.code, 3)
    })
  )
})
