// keydesk's own JavaScript: the modal, copy buttons and toasts. Every page
// works without it; this only makes it smoother.
(function () {
  "use strict";
  const modal = () => document.getElementById("modal");
  const body = () => document.getElementById("modal-body");

  function closeModal() {
    const m = modal();
    if (m && m.open) m.close();
  }

  function toast(message) {
    const t = document.getElementById("toast");
    if (!t || !message) return;
    t.textContent = message;
    t.classList.add("show");
    clearTimeout(t._timer);
    t._timer = setTimeout(() => t.classList.remove("show"), 4000);
  }

  async function copy(button) {
    const text = button.dataset.copy;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.textContent;
    button.textContent = "Copied";
    button.classList.add("copied");
    setTimeout(() => { button.textContent = label; button.classList.remove("copied"); }, 1500);
  }

  document.addEventListener("click", (e) => {
    const copyButton = e.target.closest("[data-copy]");
    if (copyButton) {
      e.preventDefault();
      copy(copyButton);
      return;
    }
    const closer = e.target.closest("[data-close-modal]");
    if (closer && modal() && modal().open) {
      e.preventDefault();
      closeModal();
    }
  });

  document.addEventListener("htmx:afterSwap", (e) => {
    // An answer with nothing for the modal (only rows to swap elsewhere) leaves it closed.
    if (e.detail.target && e.detail.target.id === "modal-body" && body().innerHTML.trim() !== "") {
      const m = modal();
      if (!m.open) m.showModal();
      const focus = body().querySelector("[autofocus], input:not([type=hidden]), button");
      if (focus) focus.focus();
    }
  });

  document.addEventListener("keydesk:close", closeModal);
  document.addEventListener("keydesk:toast", (e) => toast(e.detail && e.detail.value));

  document.addEventListener("DOMContentLoaded", () => {
    const m = modal();
    if (!m) return;
    // Empty the modal when it closes, so a secret shown in it does not linger in the page.
    m.addEventListener("close", () => { body().innerHTML = ""; });
    m.addEventListener("click", (e) => { if (e.target === m) closeModal(); });
  });

  document.addEventListener("htmx:responseError", (e) => {
    const status = e.detail.xhr.status;
    if (status === 403) toast("You are not allowed to do that, or the page has expired. Reload and try again.");
    else if (status === 413) toast("That was too large to send (over 1 MiB).");
    else if (status >= 500) toast("Something went wrong on our side. Try again in a moment.");
    else toast("That did not work (" + status + "). Reload the page and try again.");
  });
  document.addEventListener("htmx:sendError", () => toast("keydesk could not be reached. Check your connection."));
})();
