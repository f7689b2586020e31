// Starts Swagger UI on the API page (a file of its own: the site's CSP allows no inline script), and gives
// what Swagger UI draws the few things assistive technology needs that it leaves out (checked with axe-core).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: false, // its links inside the operation buttons are controls nested in controls
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    persistAuthorization: false
  });

  function label() {
    root.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach(function (select) {
      select.setAttribute("aria-label", select.closest("tr").getAttribute("data-param-name"));
    });
    root.querySelectorAll(".highlight-code .microlight:not([tabindex])").forEach(function (code) {
      code.setAttribute("tabindex", "0"); // a scrolling example must be reachable by keyboard
    });
  }
  new MutationObserver(label).observe(root, {childList: true, subtree: true});
});
