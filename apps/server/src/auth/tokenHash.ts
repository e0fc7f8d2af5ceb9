// What both token kinds share: the SHA-256 that is stored instead of the token, and the
// constant-time comparison of hashes. No table, no token format.
import { createHash, timingSafeEqual } from "node:crypto"

export const sha256 = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest()

/** Both hashes as bytes, compared in constant time (the SQL lookup alone is not). */
export const sameHash = (storedHex: string, computed: Buffer): boolean => {
  const stored = Buffer.from(storedHex, "hex")
  return stored.length === computed.length && timingSafeEqual(stored, computed)
}
