defmodule PhoenixBench.Layouts do
  @moduledoc false
  use Phoenix.Component

  # The page of cinder-bench-server, byte for byte but for the title and the stylesheet's
  # name, unindented as it is, so that the two pages' bytes differ by what each server
  # writes of its own: its tokens and the view's markup.
  def root(assigns) do
    ~H"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>Phoenix</title>
<link rel="stylesheet" href="/assets/app.css" />
<meta name="csrf-token" content={Phoenix.Controller.get_csrf_token()} />
<script src="/assets/phoenix/phoenix.min.js"></script>
<script type="module">
import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
const csrfToken = document.querySelector("meta[name='csrf-token']").getAttribute("content");
const liveSocket = new LiveSocket("/live", window.Phoenix.Socket, { params: { _csrf_token: csrfToken } });
liveSocket.connect();
window.liveSocket = liveSocket;
</script>
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
