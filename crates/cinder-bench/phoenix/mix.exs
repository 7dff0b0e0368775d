defmodule PhoenixBench.MixProject do
  use Mix.Project

  # The versions Cinder's figures were measured beside (BENCHMARKS.md), each pinned,
  # those the first five bring in too.
  def project do
    [
      app: :phoenix_bench,
      version: "0.1.0",
      elixir: "~> 1.15",
      start_permanent: true,
      deps: [
        {:phoenix, "== 1.8.8"},
        {:phoenix_live_view, "== 1.2.10"},
        {:phoenix_html, "== 4.3.0"},
        {:bandit, "== 1.12.5"},
        {:jason, "== 1.4.5"},
        {:plug, "== 1.19.2"},
        {:plug_crypto, "== 2.1.1"},
        {:phoenix_pubsub, "== 2.2.0"},
        {:phoenix_template, "== 1.0.4"},
        {:telemetry, "== 1.4.1"},
        {:websock, "== 0.5.3"},
        # Phoenix 1.8.8 asks for websock_adapter ~> 0.5.3 (1.8.9 takes ~> 0.5); the figures
        # were measured with 0.6.0, whose one change is a default frame limit of 10 MB.
        {:websock_adapter, "== 0.6.0", override: true},
        {:mime, "== 2.0.7"},
        {:thousand_island, "== 1.5.0"},
        {:hpax, "== 1.0.4"}
      ]
    ]
  end

  def application do
    [mod: {PhoenixBench.Application, []}, extra_applications: [:logger]]
  end
end
