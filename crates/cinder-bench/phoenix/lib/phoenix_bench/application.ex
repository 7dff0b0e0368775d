defmodule PhoenixBench.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [{Phoenix.PubSub, name: PhoenixBench.PubSub}, PhoenixBench.Endpoint]
    Supervisor.start_link(children, strategy: :one_for_one, name: PhoenixBench.Supervisor)
  end
end
