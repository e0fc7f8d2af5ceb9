// How hosts sharing a store prove a call comes from one of them: an HMAC-SHA256, keyed with the
// cluster secret, of the time it was signed and the body. The secret never travels; a signature
// is good only for CLUSTER_CALL_WINDOW_MS around its time, and only for its own body.
import { createHmac, timingSafeEqual } from "node:crypto"
import { CLUSTER_CALL_WINDOW_MS } from "@spindle/contracts"

export const signCall = (secret: string, time: number, body: string) =>
  createHmac("sha256", secret).update(`${time}.${body}`).digest("hex")

/** Why a call's signature is refused, or undefined when it is good. */
export const checkSignature = (
  secret: string,
  time: string | undefined,
  signature: string | undefined,
  body: string,
  now: number
): string | undefined => {
  if (time === undefined || signature === undefined || !/^\d{1,16}$/u.test(time)) {
    return "The call is not signed. Only a host of this store, with its --cluster-secret-file, may call /cluster."
  }
  if (Math.abs(now - Number(time)) > CLUSTER_CALL_WINDOW_MS) {
    return `The call was signed ${Math.round((now - Number(time)) / 1000)} s away from this host's clock (at most ${CLUSTER_CALL_WINDOW_MS / 1000} s): set the hosts' clocks right.`
  }
  const expected = Buffer.from(signCall(secret, Number(time), body), "hex")
  const given = Buffer.from(/^[0-9a-f]{64}$/u.test(signature) ? signature : "", "hex")
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return "The call's signature does not match: every host of the store needs the same --cluster-secret-file."
  }
  return undefined
}
