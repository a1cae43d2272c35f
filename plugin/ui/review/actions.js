// What the review page asks the daemon to do: decide one item, undo a decision, and
// bulk decisions over a selection or the current filter.
(function (S) {
  "use strict";

  var BULK_MAX = 1000; // the daemon's per-call cap

  function itemPath(id, verb) {
    return "/api/v1/review/items/" + id + "/" + verb;
  }

  function accept(client, item, options) {
    // Destructive kinds need confirm=true; the page asks the person before calling.
    var body = { confirm: !!item.destructive };
    if (options && Object.keys(options).length) body.options = options;
    return client.post(itemPath(item.id, "accept"), { body: body });
  }

  function reject(client, item) {
    return client.post(itemPath(item.id, "reject"));
  }

  // Undo a decision: a rejection reopens the item; an accepted face suggestion is undone
  // through its audit entry (which removes the performer and records a rejection).
  function undo(client, decision) {
    var item = decision.item;
    if (decision.action === "reject") return client.post(itemPath(item.id, "reopen"));
    var audit = item.outcome && item.outcome.audit_id;
    if (decision.action === "accept" && item.kind === "performer_suggestion" && audit) {
      return client.post("/api/v1/audit/" + audit + "/undo").then(function () {
        return client.get("/api/v1/review/items/" + item.id);
      });
    }
    return Promise.reject(new Error("Accepting a " + item.kind + " item cannot be undone here."));
  }

  function sum(total, body) {
    return {
      accepted: total.accepted + body.accepted,
      rejected: total.rejected + body.rejected,
      failed: total.failed + body.failed,
      errors: total.errors.concat(
        body.results.filter(function (r) { return !r.ok; }).map(function (r) { return r.error; })
      ),
    };
  }

  // Bulk over ids (split into calls of at most 1000) or over a filter (called again while
  // items remain and the last call decided some). onProgress gets the running totals.
  function bulk(client, action, target, onProgress) {
    var total = { accepted: 0, rejected: 0, failed: 0, errors: [] };
    var confirm = !!target.confirm;
    function call(body) {
      body.action = action;
      body.confirm = confirm;
      return client.post("/api/v1/review/bulk", { body: body }).then(function (answer) {
        total = sum(total, answer);
        if (onProgress) onProgress(total);
        return answer;
      });
    }
    if (target.ids) {
      var chunks = [];
      for (var i = 0; i < target.ids.length; i += BULK_MAX) chunks.push(target.ids.slice(i, i + BULK_MAX));
      return chunks.reduce(function (done, chunk) {
        return done.then(function () { return call({ ids: chunk }); });
      }, Promise.resolve()).then(function () { return total; });
    }
    function more() {
      return call({ filter: target.filter }).then(function (answer) {
        var progressed = answer.accepted + answer.rejected > 0;
        return answer.remaining > 0 && progressed ? more() : total;
      });
    }
    return more();
  }

  S.review.actions = { accept: accept, reject: reject, undo: undo, bulk: bulk };
})(window.StashSense);
