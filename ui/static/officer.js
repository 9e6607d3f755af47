// Small enhancements of the officer pages; every page works without them.
import { initAll } from "./govuk-frontend.min.js";

initAll();

// A case whose automated step is running says so in a status region; when the step ends
// (the case's version moves on), reload to show the outcome. Without JavaScript the page
// offers a "Check again" link instead.
const waiting = document.querySelector("[data-app-wait-for-version]");
if (waiting) {
  const url = waiting.getAttribute("data-app-status-url");
  const seen = waiting.getAttribute("data-app-wait-for-version");
  const check = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const status = await response.json();
        if (String(status.version) !== seen) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // The network blinked: try again on the next tick.
    }
    window.setTimeout(check, 1000);
  };
  window.setTimeout(check, 1000);
}
