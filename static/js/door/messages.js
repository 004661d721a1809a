// The page's sentences: translated by the template (door.html's door-messages), filled in here.

export function loadMessages(document) {
  const text = JSON.parse(document.getElementById("door-messages").textContent);
  const locale = document.documentElement.lang || "en";
  const plural = new Intl.PluralRules(locale);
  return {
    text: text,
    locale: locale,
    // "%(name)s" placeholders, as in gettext's Python format.
    say(template, values) {
      return template.replace(/%\((\w+)\)s/g, (_, name) => (values && name in values ? String(values[name]) : ""));
    },
    count(one, other, count) {
      return this.say(plural.select(count) === "one" ? one : other, { count: count });
    },
    clock(iso) {
      if (!iso) return "";
      return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    },
  };
}
