// The lineup explorer's one script: follow loads as they go, and take a dropped file.
// Pages work without it (reload by hand; pick the file with the button).
"use strict";

// An element with data-poll="URL" is refreshed from URL (server-rendered, escaped HTML)
// while it holds something marked data-loading.
function followLoads() {
  for (const box of document.querySelectorAll("[data-poll]")) {
    const refresh = async () => {
      if (!box.querySelector("[data-loading]")) return;
      try {
        const response = await fetch(box.dataset.poll, { headers: { Accept: "text/html" } });
        if (response.ok) box.innerHTML = await response.text();
      } catch (error) {
        // The server may be restarting: try again at the next tick.
      }
      setTimeout(refresh, 1500);
    };
    setTimeout(refresh, 1000);
  }
}

function takeDroppedFiles() {
  const zone = document.querySelector(".drop-zone");
  if (!zone) return;
  const input = zone.querySelector("input[type=file]");
  const chosen = zone.querySelector(".chosen");
  const maxBytes = Number(zone.dataset.maxBytes);
  const show = () => {
    const file = input.files[0];
    if (!file) { chosen.textContent = ""; return; }
    const tooLarge = maxBytes && file.size > maxBytes;
    chosen.textContent = tooLarge
      ? `${file.name} is larger than this page takes (${Math.round(maxBytes / 1048576)} MB)`
      : `${file.name} (${file.size.toLocaleString()} bytes)`;
    input.setCustomValidity(tooLarge ? "This file is too large to upload here." : "");
  };
  input.addEventListener("change", show);
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });
}

// On a narrow screen the timeline scrolls: bring the current-time line into view.
function showNow() {
  const now = document.querySelector(".timeline .now");
  const scroller = document.querySelector(".timeline-scroll");
  if (!now || !scroller || scroller.scrollWidth <= scroller.clientWidth) return;
  const left = now.getBoundingClientRect().left - scroller.getBoundingClientRect().left;
  scroller.scrollLeft += left - scroller.clientWidth / 2;
}

// The day view's Print button (hidden without this script): the browser's print, which the
// stylesheet lays out as a running order on one A4 landscape page.
function offerPrint() {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
}

document.addEventListener("DOMContentLoaded", () => {
  followLoads(); takeDroppedFiles(); showNow(); offerPrint();
});
