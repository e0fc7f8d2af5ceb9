// The registry of provider adapters this server runs: Codex, the command provider and the ACP
// providers (the project's own ACP agent and the presets), built from
// the server's provider settings. Tests can provide their own registry.
import type { ProviderKind } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import { DEFAULT_PROVIDER_SETTINGS, ServerConfig } from "../config/ServerConfig.ts"
import { makeAcpAdapter } from "./acp/AcpAdapter.ts"
import { ACP_PROVIDERS } from "./acp/acpPresets.ts"
import { makeCodexAdapter } from "./codex/CodexAdapter.ts"
import { makeCommandAdapter } from "./command/CommandAdapter.ts"
import type { ProviderAdapter } from "./ProviderAdapter.ts"

export class ProviderAdapters extends Context.Service<
  ProviderAdapters,
  ReadonlyMap<ProviderKind, ProviderAdapter>
>()("spindle/providers/ProviderAdapters") {
  static readonly layer = Layer.effect(
    ProviderAdapters,
    Effect.gen(function* () {
      const spawner = yield* ChildProcessSpawner
      const settings = (yield* ServerConfig).providers ?? DEFAULT_PROVIDER_SETTINGS
      const adapters: ReadonlyArray<ProviderAdapter> = [
        makeCodexAdapter(spawner, settings),
        makeCommandAdapter(spawner, settings.agentEnv),
        ...ACP_PROVIDERS.map((kind) => makeAcpAdapter(kind, spawner, settings))
      ]
      return new Map(adapters.map((adapter) => [adapter.kind, adapter]))
    })
  )
}
