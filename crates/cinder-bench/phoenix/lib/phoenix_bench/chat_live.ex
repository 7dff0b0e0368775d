defmodule PhoenixBench.ChatLive do
  @moduledoc false
  use Phoenix.LiveView

  @topic "chat"

  # No presence: with it every join is a diff to every tab, which for 19,000 tabs
  # takes the room's setup far past the measurement.
  def mount(_params, _session, socket) do
    if connected?(socket), do: Phoenix.PubSub.subscribe(PhoenixBench.PubSub, @topic)
    {:ok, stream(socket, :messages, [], limit: -50)}
  end

  def handle_event("send", %{"message" => %{"name" => name, "text" => text}}, socket) do
    message = %{id: System.unique_integer([:positive]), name: name, text: text}
    Phoenix.PubSub.broadcast(PhoenixBench.PubSub, @topic, {:posted, message})
    {:noreply, socket}
  end

  def handle_info({:posted, message}, socket),
    do: {:noreply, stream_insert(socket, :messages, message, limit: -50)}

  def render(assigns) do
    ~H"""
    <ul id="messages" phx-update="stream">
      <li :for={{dom_id, message} <- @streams.messages} id={dom_id}>
        <b>{message.name}</b>: {message.text}
      </li>
    </ul>
    <form phx-submit="send">
      <input type="text" name="message[name]" />
      <input type="text" name="message[text]" />
      <button>Send</button>
    </form>
    """
  end
end
