// Export progress: asks the server how far a background export is and moves the bar; once the
// export has finished, reloads the page, which then shows the download (or what went wrong).
// Without JavaScript the page's Refresh link does the same by hand.
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("[data-export-status-url]");
  if (!panel || panel.dataset.exportFinished === "true") {
    return;
  }
  const url = panel.dataset.exportStatusUrl;
  const progress = panel.querySelector("[data-export-progress]");
  const bar = panel.querySelector("[data-export-bar]");
  const label = panel.querySelector("[data-export-label]");
  const rows = panel.querySelector("[data-export-rows]");
  const QUICK_MS = 1500;
  const SLOW_MS = 5000;

  const show = (job) => {
    const percent = Math.max(0, Math.min(100, Number(job.percent) || 0));
    // Widths come from classes in app.css (pct-0 … pct-100, in steps of 5): no inline style.
    for (const name of Array.from(bar.classList)) {
      if (name.startsWith("pct-")) {
        bar.classList.remove(name);
      }
    }
    bar.classList.add(`pct-${Math.floor(percent / 5) * 5}`);
    bar.textContent = `${percent} %`;
    progress.setAttribute("aria-valuenow", String(percent));
    label.textContent = job.status_label;
    rows.textContent = job.rows_text;
  };

  const poll = async () => {
    let wait = QUICK_MS;
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) {
        const job = await response.json();
        show(job);
        if (job.finished) {
          window.location.reload();
          return;
        }
      } else {
        wait = SLOW_MS;
      }
    } catch (error) {
      wait = SLOW_MS; // the network dropped: try again a little later
    }
    window.setTimeout(poll, wait);
  };

  window.setTimeout(poll, QUICK_MS);
});
