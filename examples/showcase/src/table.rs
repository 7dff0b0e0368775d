//! `/table`: a sortable, paginated table whose sort and page live in the
//! URL. Header and pager links are patch links: the view stays, only
//! `handle_params` runs, and the browser's back and forward buttons work.

use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};

/// The first fifty elements: number, symbol, name.
const ELEMENTS: &[(u32, &str, &str)] = &[
    (1, "H", "Hydrogen"),
    (2, "He", "Helium"),
    (3, "Li", "Lithium"),
    (4, "Be", "Beryllium"),
    (5, "B", "Boron"),
    (6, "C", "Carbon"),
    (7, "N", "Nitrogen"),
    (8, "O", "Oxygen"),
    (9, "F", "Fluorine"),
    (10, "Ne", "Neon"),
    (11, "Na", "Sodium"),
    (12, "Mg", "Magnesium"),
    (13, "Al", "Aluminium"),
    (14, "Si", "Silicon"),
    (15, "P", "Phosphorus"),
    (16, "S", "Sulfur"),
    (17, "Cl", "Chlorine"),
    (18, "Ar", "Argon"),
    (19, "K", "Potassium"),
    (20, "Ca", "Calcium"),
    (21, "Sc", "Scandium"),
    (22, "Ti", "Titanium"),
    (23, "V", "Vanadium"),
    (24, "Cr", "Chromium"),
    (25, "Mn", "Manganese"),
    (26, "Fe", "Iron"),
    (27, "Co", "Cobalt"),
    (28, "Ni", "Nickel"),
    (29, "Cu", "Copper"),
    (30, "Zn", "Zinc"),
    (31, "Ga", "Gallium"),
    (32, "Ge", "Germanium"),
    (33, "As", "Arsenic"),
    (34, "Se", "Selenium"),
    (35, "Br", "Bromine"),
    (36, "Kr", "Krypton"),
    (37, "Rb", "Rubidium"),
    (38, "Sr", "Strontium"),
    (39, "Y", "Yttrium"),
    (40, "Zr", "Zirconium"),
    (41, "Nb", "Niobium"),
    (42, "Mo", "Molybdenum"),
    (43, "Tc", "Technetium"),
    (44, "Ru", "Ruthenium"),
    (45, "Rh", "Rhodium"),
    (46, "Pd", "Palladium"),
    (47, "Ag", "Silver"),
    (48, "Cd", "Cadmium"),
    (49, "In", "Indium"),
    (50, "Sn", "Tin"),
];

const PER_PAGE: usize = 10;

/// A column to sort by, as it appears in the URL.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Number,
    Symbol,
    Name,
}

impl Column {
    fn parse(text: Option<&str>) -> Column {
        match text {
            Some("symbol") => Column::Symbol,
            Some("name") => Column::Name,
            _ => Column::Number,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Column::Number => "number",
            Column::Symbol => "symbol",
            Column::Name => "name",
        }
    }
}

/// The table's state: exactly what the URL says.
pub struct Table {
    sort: Column,
    descending: bool,
    page: usize,
}

impl Table {
    fn pages() -> usize {
        ELEMENTS.len().div_ceil(PER_PAGE)
    }

    fn url(&self, sort: Column, descending: bool, page: usize) -> String {
        let dir = if descending { "desc" } else { "asc" };
        format!("/table?sort={}&dir={dir}&page={page}", sort.as_str())
    }

    /// The link a column header points to: sort by it, or flip its direction.
    fn header_url(&self, column: Column) -> String {
        let descending = self.sort == column && !self.descending;
        self.url(column, descending, 1)
    }

    fn rows(&self) -> Vec<(u32, &'static str, &'static str)> {
        let mut rows = ELEMENTS.to_vec();
        rows.sort_by(|a, b| match self.sort {
            Column::Number => a.0.cmp(&b.0),
            Column::Symbol => a.1.cmp(b.1),
            Column::Name => a.2.cmp(b.2),
        });
        if self.descending {
            rows.reverse();
        }
        rows.into_iter()
            .skip((self.page - 1) * PER_PAGE)
            .take(PER_PAGE)
            .collect()
    }
}

impl LiveView for Table {
    type Info = ();

    async fn mount(
        _params: &Params,
        _session: &Session,
        _socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        Ok(Table {
            sort: Column::Number,
            descending: false,
            page: 1,
        })
    }

    async fn handle_params(&mut self, params: &Params, _uri: &str, _socket: &mut Socket<Self>) {
        self.sort = Column::parse(params.get("sort"));
        self.descending = params.get("dir") == Some("desc");
        let page = params
            .get("page")
            .and_then(|page| page.parse().ok())
            .unwrap_or(1);
        self.page = page.clamp(1, Table::pages());
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        if event.name() == "last" {
            socket.push_patch(self.url(self.sort, self.descending, Table::pages()));
        }
    }

    fn render(&self) -> Rendered {
        let by_number = self.header_url(Column::Number);
        let by_symbol = self.header_url(Column::Symbol);
        let by_name = self.header_url(Column::Name);
        let previous = self.url(
            self.sort,
            self.descending,
            self.page.saturating_sub(1).max(1),
        );
        let next = self.url(
            self.sort,
            self.descending,
            (self.page + 1).min(Table::pages()),
        );
        let pages = Table::pages();
        html! {
            <main>
                <h1>"Elements"</h1>
                <table id="elements">
                    <thead>
                        <tr>
                            <th><a id="by-number" href={by_number} data-phx-link="patch" data-phx-link-state="push">"Number"</a></th>
                            <th><a id="by-symbol" href={by_symbol} data-phx-link="patch" data-phx-link-state="push">"Symbol"</a></th>
                            <th><a id="by-name" href={by_name} data-phx-link="patch" data-phx-link-state="push">"Name"</a></th>
                        </tr>
                    </thead>
                    <tbody>
                        @for (number, symbol, name) in self.rows(), key = number {
                            <tr><td>{number}</td><td>{symbol}</td><td class="name">{name}</td></tr>
                        }
                    </tbody>
                </table>
                <nav>
                    <a id="previous" href={previous} data-phx-link="patch" data-phx-link-state="push">"Previous"</a>
                    <span id="page">"Page "{self.page}" of "{pages}</span>
                    <a id="next" href={next} data-phx-link="patch" data-phx-link-state="push">"Next"</a>
                    <button id="last" phx-click="last">"Last page"</button>
                </nav>
            </main>
        }
    }
}
