use cinder::{html, Component, Rendered};

struct Card {
    on_click: String,
}

impl Component for Card {
    fn render(self) -> Rendered {
        html! { <div>{self.on_click}</div> }
    }
}

fn main() {
    let _ = html! { <Card on-click="go" /> };
}
