// The admin's view over both token kinds: one listing tagged by kind, and revoke by the id of
// either kind (routed by its prefix). The rules of each kind stay in ClientTokens / ProviderTokens.
import { type ListedToken, SpindleError, type TokenRevokeInput } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type { ClientTokens } from "./ClientTokens.ts"
import type { ProviderTokens } from "./ProviderTokens.ts"

const issuedAt = (token: ListedToken) => (token.kind === "client" ? token.createdAt : token.issuedAt)

/** Tokens of both kinds, revoked and expired ones included, newest first. */
export const listTokens = Effect.fn("tokenAdmin.list")(function* (
  clients: ClientTokens["Service"],
  providers: ProviderTokens["Service"]
) {
  const listed: Array<ListedToken> = [
    ...(yield* clients.list()).map((info) => ({ kind: "client" as const, ...info })),
    ...(yield* providers.list()).map((info) => ({ kind: "provider" as const, ...info }))
  ]
  return listed.sort((a, b) => issuedAt(b).localeCompare(issuedAt(a)))
})

/** Revokes the token with `input.id`, of whichever kind its prefix says; idempotent. */
export const revokeToken = Effect.fn("tokenAdmin.revoke")(function* (
  clients: ClientTokens["Service"],
  providers: ProviderTokens["Service"],
  input: TokenRevokeInput
) {
  const { id } = input
  // A pasted secret (spc_/spn_) goes to its kind too, which refuses it without echoing it.
  if (id.startsWith("ptk_") || id.startsWith("spn_")) {
    const info = yield* providers.revoke(id)
    return { kind: "provider" as const, ...info } satisfies ListedToken
  }
  if (id.startsWith("tok_") || id.startsWith("spc_")) {
    const info = yield* clients.revoke(id, input.force === true ? { force: true } : {})
    return { kind: "client" as const, ...info } satisfies ListedToken
  }
  return yield* new SpindleError({
    reason: "not-found",
    message:
      "Not a token id: expected tok_ (client) or ptk_ (provider) followed by 12 hex digits, as 'spindle token list' shows."
  })
})
