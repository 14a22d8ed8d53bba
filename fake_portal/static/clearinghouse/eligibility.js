/* Summit Exchange eligibility & benefits: the inquiry is posted to the JSON API and its 271 drawn here. */
(function () {
  "use strict";

  var LABELS = {
    benefit: "Benefit", amount: "In-network amount", code: "Procedure", auth: "Prior authorization"
  };
  var FAILURES = {
    401: "Your session has expired. Please log in again.",
    429: "Too many requests. Please wait a moment and try again.",
    503: "Summit Exchange is undergoing scheduled maintenance. Please try again later."
  };
  var SERVER_ERROR = "Something went wrong while checking eligibility. Please try again later.";

  var form = document.querySelector("[data-role=eligibility]");
  var box = document.querySelector("[data-role=response]");
  var alertBox = document.querySelector("[data-role=alert]");
  if (!form || !box || !alertBox) { return; }
  var prefix = box.dataset.idPrefix;

  function money(value) {
    var parts = Number(value).toFixed(2).split(".");
    return "$" + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + parts[1];
  }
  function usDate(iso) {
    if (!iso) { return "\u2014"; }
    var p = iso.split("-");
    return p[1] + "/" + p[2] + "/" + p[0];
  }
  function el(tag, text, id) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (id) { node.id = prefix + id; }
    return node;
  }

  function showAlert(message, withLoginLink) {
    alertBox.textContent = message;
    if (withLoginLink) {
      var link = el("a", "Sign in");
      link.href = box.dataset.loginUrl;
      alertBox.appendChild(document.createTextNode(" "));
      alertBox.appendChild(link);
    }
    alertBox.hidden = false;
    box.hidden = true;
    box.replaceChildren();
  }

  function table(id, columnsKey, rows) {
    var columns = box.dataset[columnsKey].split(",");
    var t = el("table", undefined, id);
    t.className = "sx-table";
    var head = t.createTHead().insertRow();
    columns.forEach(function (key) {
      var th = el("th", LABELS[key]);
      th.scope = "col";
      head.appendChild(th);
    });
    var body = t.createTBody();
    rows.forEach(function (row) {
      var tr = body.insertRow();
      columns.forEach(function (key) { tr.insertCell().textContent = row[key]; });
    });
    return t;
  }

  function summary(answer) {
    var dl = el("dl", undefined, "elig-summary");
    dl.className = "sx-elig-summary";
    function item(label, id, text) {
      dl.appendChild(el("dt", label));
      dl.appendChild(el("dd", text, id));
    }
    item("Payer", "elig-payer", answer.payer.name + " (" + answer.payer.id + ")");
    item("Coverage status", "elig-status", answer.status);
    item("Plan", "elig-plan", answer.plan);
    item("Member ID on file", "elig-member-id", answer.memberId);
    item("Coverage begin", "elig-begin", usDate(answer.coverageBegin));
    item("Coverage end", "elig-end", usDate(answer.coverageEnd));
    item("Network status", "elig-network", answer.inNetwork ? "In network" : "Out of network");
    item("Coordination of benefits", "elig-cob",
      answer.otherPrimary ? "Other insurance is primary: " + answer.otherPrimary : "This plan is primary");
    if (answer.movedTo) {
      item("Coverage moved to", "elig-moved-to", answer.movedTo.name + " (" + answer.movedTo.id + ")");
    }
    return dl;
  }

  function render(answer) {
    var parts = [el("h2", "Eligibility response")];
    if (!answer.found) {
      var missing = el("p", answer.message, "elig-not-found");
      missing.className = "sx-alert sx-alert-error";
      parts.push(el("p", answer.payer.name + " (" + answer.payer.id + ")", "elig-payer"), missing);
    } else {
      if (answer.memberIdChanged) {
        var changed = el("p", "The member ID you entered has been replaced. Use the member ID on file.");
        changed.className = "sx-alert sx-alert-info";
        parts.push(changed);
      }
      parts.push(summary(answer));
      if (answer.procedures.length) {
        parts.push(el("h3", "Procedures"));
        parts.push(table("elig-procedures", "procedureColumns", answer.procedures.map(function (p) {
          return { code: p.code, auth: p.authRequired ? "Required" : "Not required" };
        })));
      }
      if (answer.benefits) {
        var b = answer.benefits;
        parts.push(el("h3", "Benefits"));
        parts.push(table("elig-benefits", "benefitColumns", [
          { benefit: "Deductible (individual)", amount: money(b.deductible) },
          { benefit: "Deductible met", amount: money(b.deductibleMet) },
          { benefit: "Coinsurance", amount: b.coinsurance + "%" },
          { benefit: "Office visit copay", amount: money(b.copay) }
        ]));
      }
    }
    box.replaceChildren.apply(box, parts);
    box.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var inquiry = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name) { inquiry[field.name] = field.value.trim(); }
    });
    alertBox.hidden = true;
    box.hidden = true;
    fetch("/clearinghouse/api/eligibility/inquiry", {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(inquiry)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) { render(body); return; }
        var message = FAILURES[response.status] || (response.status >= 500 ? SERVER_ERROR : body.message);
        showAlert(message || SERVER_ERROR, response.status === 401);
      });
    }).catch(function () {
      showAlert("We could not reach Summit Exchange. Check your connection and try again.", false);
    });
  });
})();
