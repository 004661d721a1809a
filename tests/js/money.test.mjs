// static/js/money.js against the shared vectors (tests/vectors/money.json), which tests/unit/test_money_vectors.py
// checks against money.py: a live total on a page is written exactly as the server writes amounts. Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { formatMoney, parsePence } from "../../static/js/money.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const VECTORS = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "money.json"), "utf8"));

test("money.js writes every amount as money.py does, in every language and currency", async (t) => {
  assert.ok(VECTORS.length > 0);
  for (const vector of VECTORS) {
    await t.test(vector.locale + " " + vector.currency, () => {
      for (const [minorUnits, written] of vector.amounts) {
        assert.equal(formatMoney(minorUnits, vector.format), written, `${minorUnits} in ${vector.locale} ${vector.currency}`);
      }
    });
  }
});

test("a whole amount drops its zeros and a part amount keeps two digits, as on the checkout page", () => {
  const [gbp] = VECTORS.filter((vector) => vector.locale === "en_GB" && vector.currency === "GBP");
  assert.equal(formatMoney(9500, gbp.format), "£95");
  assert.equal(formatMoney(1250, gbp.format), "£12.50");
  assert.equal(formatMoney(1205, gbp.format), "£12.05");
});

const TYPED_AMOUNTS = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "typed_amounts.json"), "utf8"));

test("a typed donation is read as orders/forms.py parse_pounds reads it, Arabic and Persian digits too", () => {
  assert.ok(TYPED_AMOUNTS.length > 0);
  for (const [text, pence] of TYPED_AMOUNTS) {
    assert.equal(parsePence(text), pence, JSON.stringify(text));
  }
  // JavaScript's \d is 0-9 only: before, "١٢٫٥٠" added nothing to the live total while the server read £12.50.
  assert.equal(parsePence("١٢٫٥٠"), 1250);
  assert.equal(parsePence("۵"), 500);
});
