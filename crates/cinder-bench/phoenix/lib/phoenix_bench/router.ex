defmodule PhoenixBench.Router do
  @moduledoc false
  use Phoenix.Router
  import Phoenix.LiveView.Router

  # The pipeline a generated application puts its pages behind.
  pipeline :browser do
    plug :accepts, ["html"]
    plug :fetch_session
    plug :fetch_live_flash
    plug :put_root_layout, html: {PhoenixBench.Layouts, :root}
    plug :protect_from_forgery
    plug :put_secure_browser_headers
  end

  scope "/", PhoenixBench do
    pipe_through :browser

    live "/counter", CounterLive
    live "/rows", RowsLive
    live "/chat", ChatLive
  end
end
