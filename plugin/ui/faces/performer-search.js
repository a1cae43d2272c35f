// "Someone else": a dialog to pick a local performer, searched through Stash's own GraphQL
// (findPerformers at the same origin).
(function (S) {
  "use strict";

  var h = S.h;
  var React = S.React;
  var QUERY =
    "query StashSensePerformerSearch($filter: FindFilterType) {" +
    " findPerformers(filter: $filter) { performers { id name disambiguation } } }";

  function usePerformerSearch(text) {
    var pair = React.useState({ results: [], error: null, loading: false });
    var setState = pair[1];
    React.useEffect(function () {
      var alive = true;
      var term = text.trim();
      if (!term) {
        setState({ results: [], error: null, loading: false });
        return undefined;
      }
      setState(function (s) { return { results: s.results, error: null, loading: true }; });
      // Wait for a pause in typing before asking Stash.
      var timer = setTimeout(function () {
        S.core.stashGraphQL(QUERY, { filter: { q: term, per_page: 12, sort: "name" } }).then(
          function (data) { if (alive) setState({ results: data.findPerformers.performers, error: null, loading: false }); },
          function (error) { if (alive) setState({ results: [], error: error, loading: false }); }
        );
      }, 200);
      return function () { alive = false; clearTimeout(timer); };
    }, [text]);
    return pair[0];
  }

  S.faces.PerformerPicker = function PerformerPicker(props) {
    var B = S.lib.Bootstrap;
    var textPair = React.useState("");
    var search = usePerformerSearch(textPair[0]);
    return h(
      B.Modal,
      { show: !!props.show, onHide: props.onCancel, centered: true, className: "stash-sense-performer-picker" },
      h(B.Modal.Header, { closeButton: true }, h(B.Modal.Title, null, props.title || "Who is this?")),
      h(
        B.Modal.Body,
        null,
        h(B.Form.Control, {
          type: "search",
          autoFocus: true,
          placeholder: "Search performers in Stash…",
          value: textPair[0],
          onChange: function (e) { textPair[1](e.target.value); },
          className: "stash-sense-performer-search",
        }),
        search.error ? h(B.Alert, { variant: "danger", className: "mt-2" }, String(search.error.message)) : null,
        h(
          "div",
          { className: "list-group mt-2 stash-sense-performer-results" },
          search.results.map(function (performer) {
            return h(
              "button",
              {
                key: performer.id,
                type: "button",
                className: "list-group-item list-group-item-action stash-sense-performer-result",
                "data-performer-id": performer.id,
                onClick: function () { props.onPick(performer); },
              },
              performer.name,
              performer.disambiguation ? h("small", { className: "text-muted ml-2" }, performer.disambiguation) : null
            );
          }),
          !search.loading && textPair[0].trim() && !search.results.length && !search.error
            ? h("div", { className: "text-muted p-2" }, "No performer matches.")
            : null
        )
      )
    );
  };
})(window.StashSense);
