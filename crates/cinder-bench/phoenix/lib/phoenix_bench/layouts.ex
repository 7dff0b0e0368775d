defmodule PhoenixBench.Layouts do
  @moduledoc false
  use Phoenix.Component

  # No script: the load generator speaks the protocol itself. A browser shows the
  # first render only.
  def root(assigns) do
    ~H"""
    <!DOCTYPE html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="csrf-token" content={Phoenix.Controller.get_csrf_token()} />
        <title>Phoenix LiveView bench</title>
      </head>
      <body>
        {@inner_content}
      </body>
    </html>
    """
  end
end

defmodule PhoenixBench.ErrorHTML do
  @moduledoc false
  def render(template, _assigns), do: Phoenix.Controller.status_message_from_template(template)
end
