// A WebSocket client that checks a command or a token request before sending it, with the
// server's own decoder: a refusal is the same `validation` error, naming the same field, as the
// server's, where the RPC client would otherwise die on a payload its schema cannot encode. The
// CLI and the board both build their commands from what a person typed.
import * as Effect from "effect/Effect"
import type * as RpcClient from "effect/rpc/RpcClient"
import type { BootstrapAwait } from "./bootstrap.ts"
import { decodeClientCommand, decodeClientTokenCreateInput } from "./decodeInput.ts"
import type { SpindleRpcs } from "./rpc.ts"

export const checkedClient = <E>(client: RpcClient.FromGroup<typeof SpindleRpcs, E>) => ({
  ...client,
  "orchestration.dispatchCommand": (payload: {
    readonly command: unknown
    readonly await?: BootstrapAwait
  }) =>
    Effect.flatMap(decodeClientCommand(payload.command), (command) =>
      client["orchestration.dispatchCommand"]({ ...payload, command })
    ),
  "token.create": (payload: { readonly input: unknown }) =>
    Effect.flatMap(decodeClientTokenCreateInput(payload.input), (input) => client["token.create"]({ input }))
})
