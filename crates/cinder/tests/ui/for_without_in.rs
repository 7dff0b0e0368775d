use cinder::html;

fn main() {
    let items = [1];
    let _ = html! { <ul>@for item { <li>{item}</li> }</ul> };
}
