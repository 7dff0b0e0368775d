import Config

config :phoenix_bench, PhoenixBench.Endpoint,
  http: [ip: {127, 0, 0, 1}, port: String.to_integer(System.get_env("PORT", "4000"))],
  # Sessions are signed with it; a benchmark on loopback needs no secret one.
  secret_key_base:
    System.get_env("SECRET_KEY_BASE", String.duplicate("phoenix-bench-secret-key-base/", 3))
