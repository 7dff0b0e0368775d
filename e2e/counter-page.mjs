// Helpers for the showcase's /counter page, shared by the tests that drive it.

/// The count the page shows.
export async function count(page) {
  return (await page.textContent("#count")).trim();
}

/// Clicks `selector` and waits until the page shows `expected`.
export async function clickAndWait(page, selector, expected) {
  await page.click(selector);
  await page.waitForFunction(
    (value) => document.querySelector("#count").textContent.trim() === value,
    expected,
    { timeout: 10_000 },
  );
}
