/* Summit Exchange claim status: the search runs in the browser against the JSON API. */
(function () {
  "use strict";

  var LABELS = {
    pcn: "Patient Control #", payer_claim: "Payer Claim #", patient: "Patient",
    dos: "Service Dates", billed: "Billed", status: "Status", action: "Action"
  };
  var FAILURES = {
    401: "Your session has expired. Please log in again.",
    429: "Too many requests. Please wait a moment and try again.",
    503: "Summit Exchange is undergoing scheduled maintenance. Please try again later."
  };
  var SERVER_ERROR = "Something went wrong while searching. Please try again later.";

  var form = document.querySelector("[data-role=search]");
  var results = document.querySelector("[data-role=results]");
  var alertBox = document.querySelector("[data-role=alert]");
  if (!form || !results || !alertBox) { return; }

  function money(value) {
    var parts = Number(value).toFixed(2).split(".");
    return "$" + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + parts[1];
  }

  function usDate(iso) {
    var p = iso.split("-");
    return p[1] + "/" + p[2] + "/" + p[0];
  }

  function text(value) { return document.createTextNode(value); }

  function cellContent(key, claim) {
    switch (key) {
      case "pcn": return text(claim.patientControlNumber);
      case "payer_claim": return text(claim.payerClaimNumber);
      case "patient": return text(claim.patientName);
      case "dos":
        return text(claim.serviceFrom === claim.serviceTo ? usDate(claim.serviceFrom)
          : usDate(claim.serviceFrom) + " \u2013 " + usDate(claim.serviceTo));
      case "billed": return text(money(claim.billed));
      case "status": {
        var span = document.createElement("span");
        var badge = document.createElement("span");
        badge.className = "sx-badge sx-badge-" + claim.statusCategory.charAt(0);
        badge.textContent = claim.statusCategory;
        span.appendChild(badge);
        span.appendChild(text(" " + claim.statusText));
        return span;
      }
      case "action": {
        var link = document.createElement("a");
        link.className = results.dataset.linkClass;
        link.href = claim.detailUrl;
        link.textContent = "View claim";
        return link;
      }
      default: return text("");
    }
  }

  function showAlert(message, withLoginLink) {
    alertBox.textContent = message;
    if (withLoginLink) {
      var link = document.createElement("a");
      link.href = results.dataset.loginUrl;
      link.textContent = "Sign in";
      alertBox.appendChild(text(" "));
      alertBox.appendChild(link);
    }
    alertBox.hidden = false;
    results.replaceChildren();
  }

  function renderClaims(claims) {
    if (claims.length === 0) {
      var empty = document.createElement("p");
      empty.className = results.dataset.emptyClass;
      empty.textContent = "No claims found matching your search.";
      results.replaceChildren(empty);
      return;
    }
    var columns = results.dataset.columns.split(",");
    var table = document.createElement("table");
    table.className = "sx-table " + results.dataset.tableClass;
    table.createCaption().textContent = claims.length + (claims.length === 1 ? " claim found" : " claims found");
    var head = table.createTHead().insertRow();
    columns.forEach(function (key) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = LABELS[key];
      head.appendChild(th);
    });
    var body = table.createTBody();
    claims.forEach(function (claim) {
      var row = body.insertRow();
      columns.forEach(function (key) { row.insertCell().appendChild(cellContent(key, claim)); });
    });
    results.replaceChildren(table);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var query = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name) { query.set(field.name, field.value.trim()); }
    });
    alertBox.hidden = true;
    var busy = document.createElement("p");
    busy.className = "sx-busy";
    busy.textContent = "Searching\u2026";
    results.replaceChildren(busy);
    fetch("/clearinghouse/api/claim-status/search?" + query.toString(), {
      headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) { renderClaims(body.claims || []); return; }
        var message = FAILURES[response.status] || (response.status >= 500 ? SERVER_ERROR : body.message);
        showAlert(message || SERVER_ERROR, response.status === 401);
      });
    }).catch(function () {
      showAlert("We could not reach Summit Exchange. Check your connection and try again.", false);
    });
  });
})();
