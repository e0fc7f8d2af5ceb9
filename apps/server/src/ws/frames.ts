// The JSON serialization of the WebSocket RPC, with one rule added: every message in a frame is a
// JSON object. Effect's own parser hands `null` or `[null]` to the protocol loop, which reads a
// field of it and closes the connection with 1011; here such a frame gets the same protocol
// answer as a frame that is not JSON at all, and the connection stays.
import * as RpcSerialization from "effect/rpc/RpcSerialization"

export const strictJson: RpcSerialization.RpcSerialization["Service"] = RpcSerialization.RpcSerialization.of({
  ...RpcSerialization.json,
  makeUnsafe: () => {
    const json = RpcSerialization.json.makeUnsafe()
    return {
      decode: (data) => {
        const messages = json.decode(data)
        for (const message of messages) {
          if (message === null || typeof message !== "object" || Array.isArray(message)) {
            throw new Error(
              `Each message must be a JSON object with a _tag (such as {"_tag":"Request",...}), not ${message === null ? "null" : Array.isArray(message) ? "an array" : typeof message}.`
            )
          }
        }
        return messages
      },
      encode: json.encode
    }
  }
})
