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

  # The client, from the packages' own builds, and the page's stylesheet.
  plug Plug.Static,
    at: "/assets/phoenix",
    from: {:phoenix, "priv/static"},
    only: ~w(phoenix.min.js)

  plug Plug.Static,
    at: "/assets/phoenix_live_view",
    from: {:phoenix_live_view, "priv/static"},
    only: ~w(phoenix_live_view.esm.js)

  plug Plug.Static, at: "/assets", from: {:phoenix_bench, "priv/static"}, only: ~w(app.css)

  plug Plug.Session, @session_options
  plug PhoenixBench.Router
end
