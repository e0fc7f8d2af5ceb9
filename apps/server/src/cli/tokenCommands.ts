// `spindle token …`: create, list (both kinds), revoke (either kind; the owner token only with
// --force), rotate-owner, issue-mcp. Each is a thin layer over the WebSocket API.
import type { ListedToken, ThreadId } from "@spindle/contracts"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import { discover, withClient } from "./connect.ts"
import { usageError } from "./errors.ts"
import { globalOptions } from "./globals.ts"
import { idFlag } from "./ids.ts"
import { print, table } from "./output.ts"

/** One row per token of either kind: kind, id, name or thread, scopes or capabilities, expiry, state. */
const formatTokenTable = (tokens: ReadonlyArray<ListedToken>) => {
  if (tokens.length === 0) return "No tokens."
  const now = new Date().toISOString()
  return table(
    ["KIND", "ID", "FOR", "SCOPES/CAPABILITIES", "EXPIRES", "STATE"],
    tokens.map((t) => [
      t.kind,
      t.id,
      t.kind === "client" ? t.name : `thread ${t.threadId}`,
      (t.kind === "client" ? t.scopes : t.capabilities).join(","),
      t.expiresAt ?? "never",
      t.revokedAt !== null
        ? "revoked"
        : t.expiresAt !== null && t.expiresAt <= now
          ? "expired"
          : t.kind === "client" && t.owner
            ? "owner"
            : "active"
    ])
  )
}

const create = Command.make(
  "create",
  {
    name: Flag.String("name").pipe(Flag.withDescription("What it is for"), Flag.withDefault("cli")),
    scope: Flag.Literals("scope", ["read", "operate", "admin"]).pipe(
      Flag.withDescription("What it may do (repeatable; default read)"),
      Flag.atLeast(0)
    ),
    expiresIn: Flag.Int("expires-in").pipe(Flag.withDescription("Seconds until it expires"), Flag.optional)
  },
  ({ name, scope, expiresIn }) =>
    Effect.gen(function* () {
      if (expiresIn._tag === "Some" && expiresIn.value < 1)
        return yield* usageError(`--expires-in takes seconds from 1 up (got ${expiresIn.value}).`)
      const input = {
        name,
        scopes: scope.length === 0 ? ["read" as const] : scope,
        ...(expiresIn._tag === "Some" ? { expiresInSeconds: expiresIn.value } : {})
      }
      const created = yield* withClient((client) => client["token.create"]({ input }))
      yield* print(created, (t) =>
        [`Created token ${t.id} (${t.scopes.join(", ")}). It is shown only now:`, t.token].join("\n")
      )
    })
).pipe(Command.withDescription("A client token with the given scopes"))

const list = Command.make("list", {}, () =>
  Effect.flatMap(
    withClient((client) => client["token.list"]()),
    (tokens) => print(tokens, formatTokenTable)
  )
).pipe(Command.withDescription("Client and provider tokens: kind, id, name or thread, scopes, expiry, state"))

const revoke = Command.make(
  "revoke",
  {
    id: Argument.String("id").pipe(Argument.withDescription("A client (tok_…) or provider (ptk_…) token id")),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("Needed for the owner token"),
      Flag.withDefault(false)
    )
  },
  ({ id, force }) =>
    Effect.gen(function* () {
      const revoked = yield* withClient((client) =>
        client["token.revoke"]({ id, ...(force ? { force } : {}) })
      )
      yield* print(revoked, (t) =>
        t.kind === "client"
          ? `Revoked client token ${t.id} (${t.name})`
          : `Revoked provider token ${t.id} (thread ${t.threadId})`
      )
    })
).pipe(Command.withDescription("Revoke a token"))

const rotateOwner = Command.make("rotate-owner", {}, () =>
  Effect.gen(function* () {
    const rotated = yield* withClient((client) => client["token.rotateOwner"]())
    yield* print(
      rotated,
      (r) =>
        `Wrote a new owner token ${r.token.id} to ${r.path}` +
        (r.revoked.length === 0 ? "." : `, then revoked ${r.revoked.join(", ")}.`)
    )
  })
).pipe(Command.withDescription("Write a new owner token to <home>/owner-token, then revoke the old one"))

const issueMcp = Command.make(
  "issue-mcp",
  {
    thread: idFlag("thread", "thread", "The thread the agent works in"),
    capability: Flag.Literals("capability", ["thread-management", "thread-read"]).pipe(
      Flag.withDescription("What the agent may do (repeatable; default both)"),
      Flag.atLeast(0)
    )
  },
  ({ thread, capability }) =>
    Effect.gen(function* () {
      const options = yield* globalOptions
      const issued = yield* withClient((client) =>
        client["token.issueMcp"]({
          threadId: thread as ThreadId,
          ...(capability.length === 0 ? {} : { capabilities: capability })
        })
      )
      const result = { ...issued, mcpUrl: `${discover(options, process.env).url}/mcp` }
      yield* print(result, (t) =>
        [
          `Issued MCP token ${t.id} for thread ${t.threadId} (${t.capabilities.join(", ")}), valid until ${t.expiresAt}. It is shown only now:`,
          t.token,
          "",
          "Connect Codex to it:",
          `  export SPINDLE_MCP_TOKEN=${t.token}`,
          `  codex -c mcp_servers.spindle.url=${t.mcpUrl} -c mcp_servers.spindle.bearer_token_env_var=SPINDLE_MCP_TOKEN \\`,
          `        -c 'shell_environment_policy.exclude=["SPINDLE_MCP_TOKEN"]'`,
          "(the last line keeps the token out of the agent's commands and Codex's shell snapshot)"
        ].join("\n")
      )
    })
).pipe(
  Command.withDescription("A provider token for an agent working in that thread (connects Codex by hand)")
)

export const tokenCommand = Command.make("token").pipe(
  Command.withDescription("Client tokens (for people and scripts) and provider tokens (for agents)"),
  Command.withSubcommands([create, list, revoke, rotateOwner, issueMcp])
)
