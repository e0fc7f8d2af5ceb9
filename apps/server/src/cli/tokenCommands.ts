// `spindle token …`: create, list (both kinds), revoke (either kind; the owner token only with
// --force), rotate-owner, issue-mcp. Each is a thin layer over the WebSocket API.
import type { ListedToken, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { parse, str } from "./commands.ts"
import { discover, runWithClient } from "./connect.ts"
import { UsageError } from "./usage.ts"

/** One row per token of either kind: kind, id, name or thread, scopes or capabilities, expiry, state. */
const formatTokenTable = (tokens: ReadonlyArray<ListedToken>) => {
  if (tokens.length === 0) return "No tokens."
  const now = new Date().toISOString()
  const rows = tokens.map((t) => [
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
  const table = [["KIND", "ID", "FOR", "SCOPES/CAPABILITIES", "EXPIRES", "STATE"], ...rows]
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)))
  return table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()
    )
    .join("\n")
}

export const tokenCommand = (args: ReadonlyArray<string>) => {
  const [sub, ...rest] = args
  switch (sub) {
    case "create": {
      const { values, global } = parse(
        rest,
        {
          name: { type: "string" },
          scope: { type: "string", multiple: true },
          "expires-in": { type: "string" }
        },
        0
      )
      const expires = str(values, "expires-in")
      const input = {
        name: str(values, "name") ?? "cli",
        scopes: (values.scope as Array<string> | undefined) ?? ["read"],
        ...(expires === undefined ? {} : { expiresInSeconds: Number(expires) })
      }
      return runWithClient(
        global,
        (client) => client["token.create"]({ input }),
        (t) => [`Created token ${t.id} (${t.scopes.join(", ")}). It is shown only now:`, t.token].join("\n")
      )
    }
    case "list": {
      const { global } = parse(rest, {}, 0)
      return runWithClient(global, (client) => client["token.list"](), formatTokenTable)
    }
    case "revoke": {
      const { values, positionals, global } = parse(rest, { force: { type: "boolean" } }, 1)
      return runWithClient(
        global,
        (client) =>
          client["token.revoke"]({ id: positionals[0]!, ...(values.force === true ? { force: true } : {}) }),
        (t) =>
          t.kind === "client"
            ? `Revoked client token ${t.id} (${t.name})`
            : `Revoked provider token ${t.id} (thread ${t.threadId})`
      )
    }
    case "rotate-owner": {
      const { global } = parse(rest, {}, 0)
      return runWithClient(
        global,
        (client) => client["token.rotateOwner"](),
        (r) =>
          `Wrote a new owner token ${r.token.id} to ${r.path}` +
          (r.revoked.length === 0 ? "." : `, then revoked ${r.revoked.join(", ")}.`)
      )
    }
    case "issue-mcp": {
      const { values, global } = parse(
        rest,
        { thread: { type: "string" }, capability: { type: "string", multiple: true } },
        0
      )
      const threadId = str(values, "thread")
      if (threadId === undefined)
        throw new UsageError("token issue-mcp needs --thread <id>: the thread the agent works in.")
      const capabilities = values.capability as Array<"thread-management" | "thread-read"> | undefined
      return runWithClient(
        global,
        (client) =>
          Effect.gen(function* () {
            const issued = yield* client["token.issueMcp"]({
              threadId: threadId as ThreadId,
              ...(capabilities === undefined ? {} : { capabilities })
            })
            const { url } = discover(global, process.env)
            return { ...issued, mcpUrl: `${url}/mcp` }
          }),
        (t) =>
          [
            `Issued MCP token ${t.id} for thread ${t.threadId} (${t.capabilities.join(", ")}), valid until ${t.expiresAt}. It is shown only now:`,
            t.token,
            "",
            "Connect Codex to it:",
            `  export SPINDLE_MCP_TOKEN=${t.token}`,
            `  codex -c mcp_servers.spindle.url=${t.mcpUrl} -c mcp_servers.spindle.bearer_token_env_var=SPINDLE_MCP_TOKEN`
          ].join("\n")
      )
    }
  }
  throw new UsageError(
    "usage: spindle token create --name N --scope read [--scope operate] [--expires-in S] | list | revoke <id> [--force] | rotate-owner | issue-mcp --thread <id>"
  )
}
