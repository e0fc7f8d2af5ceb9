import { assert, describe, it } from "@effect/vitest"
import { codexEnvironment, providerKeyNames, shellPolicyConfig } from "./codexEnvironment.ts"

const SERVER = {
  PATH: "/usr/bin",
  HOME: "/home/u",
  CODEX_HOME: "/home/u/.codex",
  OPENAI_API_KEY: "sk-openai",
  OPENAI_BASE_URL: "https://proxy.example/v1",
  HTTPS_PROXY: "http://proxy:3128",
  no_proxy: "localhost",
  AZURE_OPENAI_API_KEY: "azure-key",
  MISTRAL_API_KEY: "mistral-key",
  STRIPE_API_KEY: "stripe-key",
  AWS_SECRET_ACCESS_KEY: "aws",
  AWS_ACCESS_KEY_ID: "aws-id",
  GOOGLE_APPLICATION_CREDENTIALS: "/gcloud.json",
  AZURE_CLIENT_SECRET: "azure-secret",
  SSH_AUTH_SOCK: "/tmp/ssh.sock",
  GITHUB_TOKEN: "ghp_x",
  SPINDLE_TOKEN: "spc_owner",
  SPINDLE_MCP_TOKEN: "spn_leftover",
  SPINDLE_HOME: "/home/u/.spindle",
  DATABASE_URL: "postgres://u:p@db/x",
  UNSET: undefined
}

const build = (overrides: Partial<Parameters<typeof codexEnvironment>[0]> = {}) =>
  codexEnvironment({
    serverEnv: SERVER,
    configToml: "",
    codexConfig: [],
    serverAgentEnv: {},
    projectAgentEnv: {},
    spindle: {},
    ...overrides
  })

describe("Codex's environment", () => {
  it("is the allowlist: Codex's home, its OpenAI key and endpoint, proxies; no credentials of anything else, no Spindle variable", () => {
    assert.deepStrictEqual(build(), {
      PATH: "/usr/bin",
      HOME: "/home/u",
      CODEX_HOME: "/home/u/.codex",
      OPENAI_API_KEY: "sk-openai",
      OPENAI_BASE_URL: "https://proxy.example/v1",
      HTTPS_PROXY: "http://proxy:3128",
      no_proxy: "localhost"
    })
  })

  it("passes the keys of the model providers the user configured (config.toml or -c), and only those", () => {
    const toml = [
      "[model_providers.azure]",
      'name = "Azure"',
      'env_key = "AZURE_OPENAI_API_KEY" # the deployment key',
      "[model_providers.other]",
      "env_key='NOT_SET_KEY'",
      '# env_key = "STRIPE_API_KEY"'
    ].join("\n")
    const overrides = ['model_providers.mistral.env_key="MISTRAL_API_KEY"', 'model="m"']
    assert.deepStrictEqual(providerKeyNames(toml, overrides), [
      "AZURE_OPENAI_API_KEY",
      "NOT_SET_KEY",
      "MISTRAL_API_KEY"
    ])
    const env = build({ configToml: toml, codexConfig: overrides })
    assert.strictEqual(env.AZURE_OPENAI_API_KEY, "azure-key")
    assert.strictEqual(env.MISTRAL_API_KEY, "mistral-key")
    assert.notProperty(env, "NOT_SET_KEY")
    assert.notProperty(env, "STRIPE_API_KEY", "a commented-out line names nothing")
  })

  it("adds the server's agentEnv, then the project's (which wins), then Spindle's own (which win over both)", () => {
    const env = build({
      serverAgentEnv: { GITHUB_TOKEN: "ghp_server", SHARED: "server" },
      projectAgentEnv: { SHARED: "project", SPINDLE_PORT: "1" },
      spindle: { SPINDLE_PORT: "20000", SPINDLE_PORT_COUNT: "10" }
    })
    assert.strictEqual(env.GITHUB_TOKEN, "ghp_server")
    assert.strictEqual(env.SHARED, "project")
    assert.strictEqual(env.SPINDLE_PORT, "20000")
    assert.strictEqual(env.SPINDLE_PORT_COUNT, "10")
  })

  it("keeps the model keys Codex needs out of the agent's commands, unless an agentEnv hands one to them", () => {
    const input = {
      serverEnv: SERVER,
      configToml: 'env_key = "AZURE_OPENAI_API_KEY"',
      codexConfig: ['model_providers.m.env_key="MISTRAL_API_KEY"'],
      serverAgentEnv: {},
      projectAgentEnv: {},
      spindle: {}
    }
    assert.deepStrictEqual(shellPolicyConfig(input), {
      "shell_environment_policy.exclude": [
        "CODEX_API_KEY",
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "MISTRAL_API_KEY"
      ]
    })
    assert.deepStrictEqual(
      shellPolicyConfig({ ...input, projectAgentEnv: { OPENAI_API_KEY: "sk-for-tests" } }),
      {
        "shell_environment_policy.exclude": ["CODEX_API_KEY", "AZURE_OPENAI_API_KEY", "MISTRAL_API_KEY"]
      }
    )
  })
})
