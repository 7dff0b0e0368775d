use cinder::html;

fn main() {
    let x = "a";
    let _ = html! { <div {x}></div> };
}
