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
