import Config

config :phoenix_bench, PhoenixBench.Endpoint,
  adapter: Bandit.PhoenixAdapter,
  url: [host: "localhost"],
  render_errors: [formats: [html: PhoenixBench.ErrorHTML], layout: false],
  pubsub_server: PhoenixBench.PubSub,
  live_view: [signing_salt: "phoenix-bench-live"],
  # The load generator connects from 127.0.0.1, not from the page's host.
  check_origin: false,
  server: true

config :phoenix, :json_library, Jason

# A log line per request or join would be measured as the server's work.
config :logger, level: :warning
