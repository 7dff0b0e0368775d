use cinder::html;

struct Secret;

fn main() {
    let secrets = [Secret, Secret];
    let _ = html! { <ul>@for secret in &secrets { <li data-id={7}>{secret}</li> }</ul> };
    let _ = html! { <ul>@for secret in &secrets { <li data-secret={secret}>"?"</li> }</ul> };
}
