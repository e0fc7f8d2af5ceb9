// The server's version, read once from its package manifest.
import manifest from "../package.json" with { type: "json" }

export const VERSION: string = manifest.version
