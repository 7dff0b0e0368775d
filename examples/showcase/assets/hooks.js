// The showcase's client hooks, served at /showcase/hooks.js. Every page
// imports this module and hands its default export to the LiveSocket
// (see `LiveRouter::hooks`), so `phx-hook="Kanban"` finds its hook here.

const SORTABLE_URL = "/showcase/sortable.esm.js";

// A card's short highlight: a transition the client keeps across patches.
function flash(hook, card) {
  hook.js().transition(card, "flash", { time: 1200, blocking: false });
}

// A column of /kanban: its cards can be dragged within it and to the other
// columns. Each drop is pushed to the server as `move`; the server replies
// with where the card ended up (or why it could not move), and broadcasts
// the new board to every tab.
const Kanban = {
  mounted() {
    this.handleEvent("card-moved", ({ card }) => {
      const element = document.getElementById(`card-${card}`);
      if (element) flash(this, element);
    });
    this.onFlash = (event) => flash(this, event.target);
    this.el.addEventListener("kanban:flash", this.onFlash);
    import(SORTABLE_URL)
      .then(({ default: Sortable }) => {
        if (this.gone) return;
        this.sortable = Sortable.create(this.el, {
          group: "kanban",
          draggable: ".card",
          animation: 120,
          // Plain mouse and touch events rather than the browser's drag and
          // drop; the ghost goes to <body>, out of the view's DOM.
          forceFallback: true,
          fallbackOnBody: true,
          onEnd: (event) => this.moved(event),
        });
        this.js().setAttribute(this.el, "data-sortable", "ready");
      })
      .catch((error) => {
        status(`Drag and drop is unavailable: ${error.message}. Install the npm packages (npm ci --prefix assets) and restart.`);
      });
  },

  moved({ item, from, to, oldDraggableIndex, newDraggableIndex }) {
    if (from === to && oldDraggableIndex === newDraggableIndex) return;
    const payload = { card: item.dataset.card, to: to.dataset.column, index: newDraggableIndex };
    this.pushEvent("move", payload, (reply) => {
      if (reply.ok) {
        status(`Moved “${reply.title}” to ${reply.column_title}, position ${reply.index + 1}.`);
      } else {
        // The server kept the board as it was: put the card back.
        const siblings = Array.from(from.querySelectorAll(":scope > .card")).filter((card) => card !== item);
        from.insertBefore(item, siblings[oldDraggableIndex] ?? null);
        status(`Not moved: ${reply.error}`);
      }
    });
  },

  destroyed() {
    this.gone = true;
    this.el.removeEventListener("kanban:flash", this.onFlash);
    this.sortable?.destroy();
  },
};

// What the last move's reply said, in an element the server leaves alone.
function status(text) {
  const element = document.getElementById("kanban-status");
  if (element) element.textContent = text;
}

export default { Kanban };
