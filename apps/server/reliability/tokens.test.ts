// Token attacks against the real server: every attack is refused (401 before a WebSocket upgrade
// or an MCP session, 403 for a foreign Host/Origin or another token's session, a forbidden or
// unauthorized error over an open socket or in a tool) and none of them grants anything.
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { initRepo, tempDir } from "../src/testing/fixtures.ts"
import { checkInvariants } from "./harness/invariants.ts"
import { connectMcp } from "./harness/mcp.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { startSpindle } from "./harness/spindle.ts"
import { adminClient, createProject, dispatch, outcome } from "./harness/world.ts"
import { toolOutcome } from "./hostile/mcpRaces.ts"
import { attacks, type Tokens } from "./tokens/attacks.ts"

/** Moves a provider token's end of life into the past, as 24 hours passing would. */
const expireProviderToken = (home: string, id: string) => {
  const db = new DatabaseSync(join(home, "spindle.db"))
  try {
    db.exec("PRAGMA busy_timeout = 5000")
    db.prepare("UPDATE provider_tokens SET expires_at = ? WHERE id = ?").run("2000-01-01T00:00:00.000Z", id)
  } finally {
    db.close()
  }
}

describe("reliability: token attacks", () => {
  it.live(
    "guessed, truncated, revoked, expired, misplaced and rebinding tokens are refused and grant nothing",
    () =>
      runScenario("tokens", "Token attacks", (report) =>
        Effect.gen(function* () {
          const dir = yield* tempDir("spindle-tokens-")
          const server = yield* startSpindle(join(dir, "home"))
          const client = yield* adminClient(server)
          const repo = initRepo(join(dir, "repo"))
          yield* createProject(client, "pa", repo)
          for (const id of ["ta", "tb", "tx"])
            yield* dispatch(client, {
              type: "thread.create",
              commandId: `create-${id}`,
              threadId: id,
              projectId: "pa",
              title: id
            })
          const create = (
            name: string,
            scopes: Array<"read" | "operate" | "admin">,
            expiresInSeconds?: number
          ) =>
            client["token.create"]({
              input: { name, scopes, ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }) }
            })
          const issue = (threadId: string, capabilities?: Array<"thread-management" | "thread-read">) =>
            client["token.issueMcp"]({
              threadId: threadId as never,
              ...(capabilities === undefined ? {} : { capabilities })
            })

          const reader = yield* create("reader", ["read"])
          const revokedClient = yield* create("to revoke", ["operate"])
          yield* client["token.revoke"]({ id: revokedClient.id })
          const expiredClient = yield* create("brief", ["read"], 1)
          const providerA = yield* issue("ta")
          const providerB = yield* issue("tb")
          const archivedProvider = yield* issue("tx")
          yield* dispatch(client, { type: "thread.archive", commandId: "archive-tx", threadId: "tx" })
          const revokedProvider = yield* issue("ta")
          const revokedById = yield* outcome(client["token.revoke"]({ id: revokedProvider.id }))
          report.check(
            "token.revoke revokes a provider token by its id",
            revokedById === "ok" ? [] : [`answered ${revokedById}`]
          )
          const expiredProvider = yield* issue("ta")
          expireProviderToken(server.home, expiredProvider.id)
          const readOnlyProvider = yield* issue("tb", ["thread-read"])
          const manageOnlyProvider = yield* issue("ta", ["thread-management"])
          const agentB = yield* Effect.acquireRelease(
            promise(() => connectMcp(server.url, providerB.token)),
            (c) => Effect.promise(() => c.close()).pipe(Effect.ignore)
          )
          const childOfB =
            (yield* promise(() => toolOutcome(agentB, { prompt: "child of b", mode: "current_checkout" })))
              .threadId ?? "none"
          // The one-second token has expired once its end of life is behind us (bounded: at most ~1 s).
          const expiresAt = Date.parse(expiredClient.expiresAt ?? "")
          yield* Effect.sleep(`${Math.max(0, expiresAt - Date.now() + 50)} millis`)

          const before = yield* client["orchestration.getSnapshot"]()
          const tokensBefore = (yield* client["token.list"]()).length
          const t: Tokens = {
            url: server.url,
            owner: server.ownerToken,
            reader: reader.token,
            revokedClient: revokedClient.token,
            expiredClient: expiredClient.token,
            providerA: providerA.token,
            providerB: providerB.token,
            archivedProvider: archivedProvider.token,
            revokedProvider: revokedProvider.token,
            expiredProvider: expiredProvider.token,
            readOnlyProvider: readOnlyProvider.token,
            manageOnlyProvider: manageOnlyProvider.token,
            childOfB
          }
          const list = attacks(t)
          const results = yield* Effect.forEach(list, (attack) =>
            promise(attack.run).pipe(
              Effect.catch((error) => Effect.succeed(`error: ${error.message}`)),
              Effect.map((got) => ({ attack, got }))
            )
          )
          for (const door of ["ws", "mcp", "http"] as const) {
            report.check(
              `${door}: every attack refused`,
              results
                .filter((r) => r.attack.door === door && r.got !== r.attack.expect)
                .map((r) => `${r.attack.name}: got ${r.got}, expected ${r.attack.expect}`)
            )
          }
          const after = yield* client["orchestration.getSnapshot"]()
          const tokensAfter = (yield* client["token.list"]()).length
          report.check("no attack granted anything (no event, no thread, no token)", [
            ...(after.sequence === before.sequence
              ? []
              : [`the event log moved from ${before.sequence} to ${after.sequence}`]),
            ...(after.threads.length === before.threads.length
              ? []
              : [`${after.threads.length - before.threads.length} threads appeared`]),
            ...(tokensAfter === tokensBefore ? [] : [`${tokensAfter - tokensBefore} client tokens appeared`])
          ])
          report.figure("attacks", list.length)
          report.figure("refused as promised", results.filter((r) => r.got === r.attack.expect).length)
          report.table({
            title: "Attacks",
            columns: ["door", "attack", "expected", "got"],
            rows: results.map((r) => [r.attack.door, r.attack.name, r.attack.expect, r.got])
          })

          const invariants = yield* checkInvariants({
            home: server.home,
            url: server.url,
            client,
            secrets: Object.values(t).filter((v) => v.startsWith("sp")),
            outputs: { server: server.output() }
          })
          report.check("invariants", invariants.violations)
        })
      )
  )
})
