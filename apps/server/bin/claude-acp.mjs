#!/usr/bin/env node
// The `claude` preset's agent: Claude Code's ACP adapter (claude-code-acp, its path the first
// argument) run in this process, with one change. The MCP servers Spindle passes in `session/new`
// (Spindle's own, over HTTP, with the session's bearer token in its headers) reach Claude Code as
// in-process MCP servers ("sdk" servers, which Claude Code's SDK talks to over the pipes it already
// has) that forward each request to Spindle. Passed as they are, the adapter's SDK would write them,
// headers and token included, on the Claude Code CLI's command line (`--mcp-config`), readable in
// /proc by any process of the user. The token stays in this process's memory.
// Plain JavaScript, like spindle.mjs: it runs on the server's Node from the sources and the bundle.
import { realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"

const adapterBin = process.argv[2]
if (adapterBin === undefined) {
  process.stderr.write("usage: claude-acp.mjs <path of claude-code-acp>\n")
  process.exit(2)
}
// The bin is dist/index.js; the library beside it exports the agent.
const lib = join(dirname(realpathSync(adapterBin)), "lib.js")
const { ClaudeAcpAgent, runAcp, loadManagedSettings, applyEnvironmentSettings } = await import(
  pathToFileURL(lib).href
)

/** An in-process MCP server that forwards tools/list and tools/call to `server` (an HTTP MCP server). */
const forwarding = async (server) => {
  const headers = Object.fromEntries((server.headers ?? []).map((h) => [h.name, h.value]))
  const upstream = new Client({ name: "spindle-claude-acp", version: "1.0.0" })
  await upstream.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } }))
  const local = new Server(
    { name: server.name, version: "1.0.0" },
    { capabilities: { tools: {} }, instructions: upstream.getInstructions() }
  )
  local.setRequestHandler(ListToolsRequestSchema, (request) => upstream.listTools(request.params))
  local.setRequestHandler(CallToolRequestSchema, (request) => upstream.callTool(request.params))
  return local
}

const createSession = ClaudeAcpAgent.prototype.createSession
ClaudeAcpAgent.prototype.createSession = async function (params, options) {
  const servers = params.mcpServers ?? []
  const http = servers.filter((s) => "type" in s && s.type === "http")
  if (http.length === 0) return createSession.call(this, params, options)
  const inProcess = {}
  for (const server of http) {
    inProcess[server.name] = { type: "sdk", name: server.name, instance: await forwarding(server) }
  }
  const meta = params._meta ?? {}
  const claudeCode = meta.claudeCode ?? {}
  const given = claudeCode.options ?? {}
  return createSession.call(
    this,
    {
      ...params,
      mcpServers: servers.filter((s) => !http.includes(s)),
      _meta: {
        ...meta,
        claudeCode: {
          ...claudeCode,
          options: { ...given, mcpServers: { ...given.mcpServers, ...inProcess } }
        }
      }
    },
    options
  )
}

// What the adapter's own entry does before it runs.
const managed = loadManagedSettings()
if (managed) applyEnvironmentSettings(managed)
// stdout carries ACP: everything else goes to stderr.
console.log = console.error
console.info = console.error
console.warn = console.error
console.debug = console.error
process.on("unhandledRejection", (reason) => console.error("Unhandled rejection:", reason))
runAcp()
process.stdin.resume()
