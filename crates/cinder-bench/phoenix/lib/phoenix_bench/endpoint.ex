defmodule PhoenixBench.Endpoint do
  @moduledoc false
  use Phoenix.Endpoint, otp_app: :phoenix_bench

  @session_options [
    store: :cookie,
    key: "_phoenix_bench_key",
    signing_salt: "phoenix-bench-session",
    same_site: "Lax"
  ]

  socket "/live", Phoenix.LiveView.Socket,
    websocket: [connect_info: [session: @session_options]],
    longpoll: false

  plug Plug.Session, @session_options
  plug PhoenixBench.Router
end
