// The page's standing information: connected or not (and scans waiting to sync), the admitted count, and
// tickets let in twice while offline, which stay listed until someone has seen them.

const $ = (id) => document.getElementById(id);

export function renderNetwork(messages, online, waiting) {
  const text = messages.text;
  const element = $("door-network");
  element.dataset.state = online ? "online" : "offline";
  let label = online ? text.online : text.offline;
  if (waiting) label += " · " + messages.count(text.waiting_one, text.waiting, waiting);
  element.querySelector(".door-network-text").textContent = label;
}

// counts: the server's last {admitted, expected}, or null; offline, admissions waiting to sync are added.
export function renderCounts(counts, online, waiting) {
  $("door-admitted").textContent = counts ? String(counts.admitted + (online ? 0 : waiting)) : "–";
  $("door-expected").textContent = counts ? String(counts.expected) : "–";
}

export function renderConflicts(messages, conflicts) {
  const section = $("door-conflicts");
  $("door-conflict-list").replaceChildren(
    ...conflicts.map((conflict) => {
      const item = document.createElement("li");
      item.textContent = messages.say(messages.text.conflict, {
        holder: conflict.holder,
        type: conflict.type,
        time: messages.clock(conflict.at),
        door: conflict.door || "?",
        first: messages.clock(conflict.first),
      });
      return item;
    })
  );
  section.hidden = conflicts.length === 0;
  if (conflicts.length) section.setAttribute("role", "alert");
}
