use cinder::html;

fn main() {
    let names = ["ann"];
    let _ = html! { <ul>@memo { @for name in &names { <li>{name}</li> } }</ul> };
}
