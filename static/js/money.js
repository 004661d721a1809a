// Amounts written exactly as the server writes them (money.py format_money): the page carries money.py's own
// description of its language's format (the `money_format` filter: text before and after the number, separators,
// group sizes, the minor unit's digits), and this only puts an amount into it. Whole amounts drop their zeros, as
// people write prices: "£95", "£12.50". Pure, for non-negative whole minor units (pence). tests/js/money.test.mjs
// checks it against tests/vectors/money.json, which tests/unit/test_money_vectors.py checks against money.py.
export function formatMoney(minorUnits, format) {
  var scale = Math.pow(10, format.digits);
  var whole = String(Math.floor(minorUnits / scale));
  var fraction = minorUnits % scale;
  var primary = format.grouping[0];
  var secondary = format.grouping[1] || primary;
  var groups = [];
  if (primary > 0 && whole.length > primary) {
    groups.unshift(whole.slice(-primary));
    whole = whole.slice(0, -primary);
    while (secondary > 0 && whole.length > secondary) {
      groups.unshift(whole.slice(-secondary));
      whole = whole.slice(0, -secondary);
    }
  }
  groups.unshift(whole);
  var number = groups.join(format.group);
  if (fraction) number += format.decimal + String(fraction).padStart(format.digits, "0");
  return format.prefix + number + format.suffix;
}

// An amount a guest typed in pounds (the event page's donation), in pence, read as orders/forms.py parse_pounds reads
// it: "5", "£12.5", "12,50" and "12.50"; the Eastern Arabic (U+0660-0669) and Persian (U+06F0-06F9) digits and the
// Arabic decimal separator "٫" (U+066B) an Arabic or a Farsi keyboard types; "" is 0. Null when it is not an amount
// (any other digit included). tests/vectors/typed_amounts.json holds this and parse_pounds to the same answers.
export function parsePence(text) {
  if (!text.trim()) return 0;
  var ascii = text.replace(/[\u0660-\u0669\u06f0-\u06f9\u066b]/g, function (c) {
    if (c === "\u066b") return ".";
    var code = c.charCodeAt(0);
    return String(code - (code >= 0x06f0 ? 0x06f0 : 0x0660));
  });
  var match = /^\s*£?\s*([0-9]{1,6})(?:[.,]([0-9]{1,2}))?\s*$/.exec(ascii);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
}
