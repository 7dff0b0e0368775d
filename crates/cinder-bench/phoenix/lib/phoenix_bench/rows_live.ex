defmodule PhoenixBench.RowsLive do
  @moduledoc false
  use Phoenix.LiveView

  def mount(_params, _session, socket),
    do: {:ok, assign(socket, rows: Enum.map(1..100, &%{id: &1, value: 0}))}

  def handle_event("bump", %{"i" => i}, socket) do
    id = String.to_integer(i)

    rows =
      Enum.map(socket.assigns.rows, fn
        %{id: ^id} = row -> %{row | value: row.value + 1}
        row -> row
      end)

    {:noreply, assign(socket, rows: rows)}
  end

  def render(assigns) do
    ~H"""
    <ul>
      <li :for={row <- @rows} id={"row-#{row.id}"} phx-click="bump" phx-value-i={row.id}>Row {row.id}: {row.value}</li>
    </ul>
    """
  end
end
