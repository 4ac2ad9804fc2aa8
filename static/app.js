// keydesk's own JavaScript: the modal, copy buttons, toasts, local times,
// character counts and row menus. Every page works without it; this only
// makes it smoother. No inline script or style anywhere (the CSP forbids it).
(function () {
  "use strict";
  // What needs this script (Copy, live counts) shows only once it runs.
  document.documentElement.classList.remove("no-js");
  const modal = () => document.getElementById("modal");
  const body = () => document.getElementById("modal-body");
  // A modal showing a secret once: no backdrop close, and Escape asks first.
  const oneTime = () => !!body().querySelector("[data-one-time]");

  function closeModal() {
    const m = modal();
    if (m && m.open) {
      m.allowClose = true;
      m.close();
    }
  }

  // toast shows a short message; one about a failure stays longer. An open
  // modal sits in the browser's top layer, above any z-index, so the toast
  // moves into it while it is open and back to the page when it closes.
  function toast(message, failure) {
    const t = document.getElementById("toast");
    if (!t || !message) return;
    const m = modal();
    const host = m && m.open ? m : document.body;
    if (t.parentElement !== host) host.appendChild(t);
    t.textContent = message;
    t.classList.add("show");
    clearTimeout(t._timer);
    t._timer = setTimeout(() => t.classList.remove("show"), failure ? 10000 : 4000);
  }

  async function copy(button) {
    const text = button.dataset.copy;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "sr-only";
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

  // askBeforeClosing shows the "Have you stored the secret?" question.
  function askBeforeClosing() {
    const ask = body().querySelector("[data-escape-ask]");
    if (!ask) return;
    ask.hidden = false;
    ask.querySelector("[data-keep-open]").focus();
  }

  // hideSecret puts the mask (kept in a template) back in place of a revealed secret.
  function hideSecret(button) {
    const revealed = button.closest(".secret");
    const tpl = revealed && revealed.querySelector("template");
    if (!tpl) return;
    const masked = tpl.content.firstElementChild.cloneNode(true);
    revealed.replaceWith(masked);
    if (window.htmx) window.htmx.process(masked);
    const reveal = masked.querySelector("button");
    if (reveal) reveal.focus();
  }

  document.addEventListener("click", (e) => {
    const copyButton = e.target.closest("[data-copy]");
    if (copyButton) {
      e.preventDefault();
      copy(copyButton);
      return;
    }
    const hide = e.target.closest("[data-hide-secret]");
    if (hide) {
      hideSecret(hide);
      return;
    }
    const keep = e.target.closest("[data-keep-open]");
    if (keep) {
      keep.closest("[data-escape-ask]").hidden = true;
      const done = body().querySelector("[data-testid=done]");
      if (done) done.focus();
      return;
    }
    const closer = e.target.closest("[data-close-modal]");
    if (closer && modal() && modal().open) {
      e.preventDefault();
      closeModal();
    }
    // A row menu closes once one of its actions is chosen, or on a click elsewhere.
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(e.target) || e.target.closest(".menu-items a")) menu.open = false;
    });
  });

  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    const menu = e.target.closest && e.target.closest("details.menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  document.addEventListener("htmx:afterSwap", (e) => {
    const target = e.detail.target;
    // An answer with nothing for the modal (only rows to swap elsewhere) leaves it closed.
    if (target && target.id === "modal-body" && body().innerHTML.trim() !== "") {
      const m = modal();
      if (!m.open) m.showModal();
      const focus = body().querySelector("[data-initial-focus]") || body().querySelector("[autofocus], input:not([type=hidden]), button");
      if (focus) focus.focus();
    }
  });
  // After a reveal the secret takes the focus, so it is read out and can be selected.
  document.addEventListener("htmx:afterSettle", (e) => {
    const el = e.detail.elt;
    if (el && el.classList && el.classList.contains("revealed")) {
      const secret = el.querySelector("[data-testid=secret]");
      if (secret) secret.focus();
    }
  });

  // localTimes shows each time's exact moment in the viewer's own zone.
  function localTimes(root) {
    root.querySelectorAll("time.when[datetime]").forEach((t) => {
      const d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      const exact = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
      t.title = exact;
      t.dataset.exact = exact;
    });
  }

  // count shows how many characters a long text has against its limit.
  function count(field) {
    const out = document.getElementById(field.dataset.count);
    if (!out) return;
    const n = Array.from(field.value).length;
    const max = field.getAttribute("maxlength");
    out.textContent = n + " / " + max;
    out.classList.toggle("over", n > Number(max));
  }
  document.addEventListener("input", (e) => {
    if (e.target.matches && e.target.matches("[data-count]")) count(e.target);
  });

  // newestInView scrolls each chart that is wider than its screen to its right
  // end, where the latest hours are.
  function newestInView(root) {
    root.querySelectorAll(".chart-scroll").forEach((c) => {
      c.scrollLeft = c.scrollWidth;
      // While the bars scroll, the frame holds their y axis at the left.
      c.parentElement.classList.toggle("scrolls", c.scrollWidth > c.clientWidth + 1);
    });
  }

  document.addEventListener("htmx:load", (e) => { localTimes(e.detail.elt); newestInView(e.detail.elt); });
  document.addEventListener("keydesk:close", closeModal);
  // A page's notice tells of the action that led to it: once a later action
  // reports its own outcome, the old notice would read as this one's.
  const dropNotice = () => document.querySelectorAll("[data-testid=flash]").forEach((n) => n.remove());
  document.addEventListener("keydesk:toast", (e) => { dropNotice(); toast(e.detail && e.detail.value); });
  document.addEventListener("keydesk:alert", (e) => toast(e.detail && e.detail.value, true));

  document.addEventListener("DOMContentLoaded", () => {
    localTimes(document);
    newestInView(document);
    // On a narrow screen the navigation scrolls sideways: show where we are.
    const nav = document.querySelector("nav.nav"), here = nav && nav.querySelector("a.active");
    if (here && nav.scrollWidth > nav.clientWidth) nav.scrollLeft += here.getBoundingClientRect().left - nav.getBoundingClientRect().left - (nav.clientWidth - here.offsetWidth) / 2;
    // Fade the side where more links are hidden, so the bar reads as one that scrolls.
    const edges = () => {
      nav.classList.toggle("more-left", nav.scrollLeft > 1);
      nav.classList.toggle("more-right", nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 1);
    };
    if (nav) {
      edges();
      nav.addEventListener("scroll", edges, { passive: true });
      window.addEventListener("resize", edges);
    }
    const m = modal();
    if (!m) return;
    m.addEventListener("close", () => {
      // The browser may close a dialog on Escape whatever a script says: a
      // one-time secret comes back at once, asking whether it was stored.
      if (oneTime() && !m.allowClose) {
        setTimeout(() => { m.showModal(); askBeforeClosing(); }, 0);
        return;
      }
      m.allowClose = false;
      const t = document.getElementById("toast");
      if (t && t.parentElement === m) document.body.appendChild(t);
      // Empty the modal when it closes, so a secret shown in it does not linger in the page.
      body().innerHTML = "";
    });
    m.addEventListener("click", (e) => { if (e.target === m && !oneTime()) closeModal(); });
    m.addEventListener("cancel", (e) => {
      if (oneTime()) {
        e.preventDefault();
        askBeforeClosing();
      }
    });
  });

  document.addEventListener("htmx:responseError", (e) => {
    const xhr = e.detail.xhr, status = xhr.status;
    // An ended session's answer names what to do in its own toast (the
    // HX-Trigger header, shown before this event): do not talk over it.
    if (status === 401 && xhr.getResponseHeader("HX-Trigger")) return;
    // Signed in again in another tab since this page loaded: take the new
    // token, so sending the form once more works (the answer's own alert says so).
    const renewed = status === 403 && xhr.getResponseHeader("KD-CSRF-Token");
    if (renewed) {
      document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRF-Token": renewed }));
      document.querySelectorAll("input[name=_csrf]").forEach((i) => { i.value = renewed; });
      return;
    }
    if (status === 401) toast("Your session has ended. Sign in again in another tab, then send this again: what you typed is still here.", true);
    else if (status === 403) toast("You are not allowed to do that, or the page has expired. Reload and try again.", true);
    else if (status === 413) toast("That was too large to send (over 1 MiB).", true);
    else if (status >= 500) toast("Something went wrong on our side. Try again in a moment.", true);
    else toast("That did not work (" + status + "). Reload the page and try again.", true);
  });
  document.addEventListener("htmx:sendError", () => toast("keydesk could not be reached. Check your connection: what you typed is still here.", true));
})();
