// Finding a guest without their code: by name or order reference on the server, by name in the guest list on
// the device when offline. Each valid ticket has an Admit button that scans its secret; a ticket that no longer
// works (refunded, cancelled, given back, passed on) says so, with no button, so the door never offers it.

import { Unreachable } from "./sync.js";

const HITS_MAX = 20;

// guests() is the guest list (admit.js) or null; admitted() the admissions not synced yet.
export function createSearch(messages, slug, sync, guests, admitted, scan) {
  const text = messages.text;
  const $ = (id) => document.getElementById(id);
  let lastQuery = "";

  function render(hits) {
    $("door-search-results").replaceChildren(
      ...hits.map((hit) => {
        const item = document.createElement("li");
        item.className = "door-hit";
        const about = document.createElement("div");
        const name = document.createElement("strong");
        name.textContent = hit.holder;
        name.dir = "auto";
        const details = document.createElement("span");
        const state = hit.checked_in_at ? messages.say(text.in_at, { time: messages.clock(hit.checked_in_at) }) : "";
        details.textContent = [hit.type, hit.order, state].filter(Boolean).join(" · ");
        about.append(name, document.createElement("br"), details);
        // The server's hits and the offline guest list both say what the door makes of each ticket (valid, refunded,
        // unpaid, void, released, passed_on: checkin.rules.door_state); only a valid one is offered Admit.
        const ended = hit.status && hit.status !== "valid";
        if (ended) {
          const status = document.createElement("strong");
          status.className = "door-hit-status";
          status.textContent = text["status_" + hit.status] || hit.status;
          about.append(document.createElement("br"), status);
          item.classList.add("door-hit-ended");
          item.append(about);
          return item;
        }
        // The organiser's short flags (e.g. "Dietary note"), never the answer: the server sends them translated.
        for (const note of hit.notes || []) {
          const flag = document.createElement("span");
          flag.className = "door-flag";
          flag.dir = "auto";
          flag.textContent = note;
          about.append(" ", flag);
        }
        // A guest already in is not offered the same green Admit: scanning again says whether they may go back in
        // (re-entry) or that the ticket was scanned already.
        const admit = document.createElement("button");
        admit.type = "button";
        if (hit.checked_in_at) {
          item.classList.add("door-hit-in");
          admit.className = "secondary";
          admit.textContent = text.scan_again_button;
          admit.setAttribute("aria-label", messages.say(text.scan_again_named, { holder: hit.holder }));
        } else {
          admit.textContent = text.admit_button;
          admit.setAttribute("aria-label", messages.say(text.admit_named, { holder: hit.holder }));
        }
        admit.addEventListener("click", () => scan(hit.secret, "search"));
        item.append(about, admit);
        return item;
      })
    );
    $("door-search-note").textContent = hits.length ? "" : text.no_results;
  }

  function searchOffline(query) {
    const needle = query.toLowerCase();
    const local = admitted();
    const list = guests();
    const hits = [];
    for (const ticket of list ? list.byId.values() : []) {
      if (ticket.holder.toLowerCase().includes(needle) && hits.length < HITS_MAX) {
        const here = local[ticket.id];
        hits.push({
          holder: ticket.holder,
          type: ticket.type,
          order: "",
          secret: ticket.secret,
          status: ticket.status,
          checked_in_at: here ? here.at : null,
        });
      }
    }
    render(hits);
    $("door-search-note").textContent = text.searched_offline;
  }

  function search(query) {
    lastQuery = query.trim();
    if (lastQuery.length < 2) return;
    if (!sync.isOnline()) return searchOffline(lastQuery);
    sync
      .api("GET", "/api/checkin/events/" + encodeURIComponent(slug) + "/search?q=" + encodeURIComponent(lastQuery))
      .then((response) => {
        if (response.status === 200) render(response.data);
      })
      .catch((error) => {
        if (error instanceof Unreachable) searchOffline(lastQuery);
      });
  }

  $("door-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("door-q").value);
  });

  // After a verdict: the hits show who is in now.
  return {
    refresh() {
      if (lastQuery) search(lastQuery);
    },
  };
}
