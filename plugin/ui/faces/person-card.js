// One person found in the scene: evidence crops beside the reference image, the match,
// its state and the actions that state allows.
(function (S) {
  "use strict";

  var h = S.h;
  var MAX_CROPS = 8;

  var ACTION_BUTTONS = {
    accept: { label: "Accept", variant: "success", icon: "faCheck" },
    reject: { label: "Reject", variant: "danger", icon: "faTimes" },
    undo: { label: "Undo", variant: "secondary", icon: "faUndo" },
    someoneElse: { label: "Someone else…", variant: "secondary", icon: "faUserEdit" },
  };

  function Title(props) {
    var person = props.person;
    var best = person.best;
    if (person.state === "corrected" && person.chosen_performer) {
      return h("span", { className: "stash-sense-person-name" }, person.chosen_performer.name || "Performer " + person.chosen_performer.id);
    }
    if (!best) return h("span", { className: "stash-sense-person-name text-muted" }, "Unknown person");
    return h(
      "span",
      null,
      h("span", { className: "stash-sense-person-name" }, best.name),
      " ",
      h(S.components.ConfidenceBadge, { value: best.confidence }),
      h("small", { className: "text-muted ml-2" }, best.endpoint)
    );
  }

  function Evidence(props) {
    var person = props.person;
    var client = props.client;
    var faces = person.evidence.slice(0, MAX_CROPS);
    return h(
      "div",
      { className: "stash-sense-evidence" },
      faces.map(function (face, i) {
        var time = S.core.format.timecode(face.timestamp);
        return h(
          "div",
          { key: face.crop_id || i, className: "stash-sense-evidence-item" },
          h(S.components.Crop, {
            src: client.imageUrl(face.crop_signed_url),
            title: "Seen at " + time + ": click to jump there",
            alt: "face at " + time,
            onClick: function () { S.faces.seek(face.timestamp); },
          }),
          h("div", { className: "stash-sense-evidence-time" }, time)
        );
      }),
      !faces.length ? h("div", { className: "text-muted" }, "No face crops kept.") : null
    );
  }

  function Reference(props) {
    var person = props.person;
    var url = person.state === "corrected" && person.chosen_performer ? person.chosen_performer.image_url : person.reference_image_url;
    return h(
      "div",
      { className: "stash-sense-reference" },
      h(S.components.Crop, { src: url, className: "stash-sense-reference-image", title: "Reference image", alt: "reference" }),
      h("div", { className: "stash-sense-evidence-time" }, "Reference")
    );
  }

  function Alternatives(props) {
    var list = props.person.alternatives || [];
    if (!list.length) return null;
    return h(
      "div",
      { className: "stash-sense-alternatives" },
      h("small", { className: "text-muted" }, "Also possible: "),
      list.map(function (alt, i) {
        return h(
          "small",
          { key: alt.universal_id || i, className: "stash-sense-alternative" },
          i ? ", " : "",
          alt.name,
          " (",
          S.core.format.percent(alt.confidence),
          ")"
        );
      })
    );
  }

  S.faces.PersonCard = function PersonCard(props) {
    var B = S.lib.Bootstrap;
    var person = props.person;
    var state = S.faces.stateOf(person.state);
    var actions = state.actions.filter(function (a) {
      if (a === "accept" || a === "reject") return person.review_item_id;
      if (a === "undo") return person.audit_id;
      return true;
    });
    return h(
      B.Card,
      { className: "stash-sense-person mb-3", "data-person-index": person.index, "data-state": person.state },
      h(
        B.Card.Header,
        { className: "d-flex align-items-center" },
        h(Title, { person: person }),
        h(B.Badge, { variant: state.variant, className: "ml-auto stash-sense-person-state" }, state.label)
      ),
      h(
        B.Card.Body,
        null,
        h("div", { className: "d-flex stash-sense-person-images" }, h(Reference, { person: person }), h(Evidence, { person: person, client: props.client })),
        h(
          "div",
          { className: "stash-sense-person-facts mt-2" },
          h("small", null, "Seen in ", person.frame_count, " frames"),
          // Why no match was made (near tie, too few frames): only for unknown persons.
          !person.best && person.reason ? h("small", { className: "text-muted ml-2 stash-sense-person-reason" }, person.reason) : null
        ),
        h(Alternatives, { person: person })
      ),
      actions.length
        ? h(
            B.Card.Footer,
            { className: "stash-sense-person-actions" },
            actions.map(function (name) {
              var spec = ACTION_BUTTONS[name];
              return h(
                B.Button,
                {
                  key: name,
                  size: "sm",
                  variant: spec.variant,
                  className: "mr-2 stash-sense-action-" + name,
                  disabled: !!props.busy,
                  onClick: function () { props.onAction(name, person); },
                },
                h(S.components.Icon, { icon: S.icons[spec.icon] }),
                " ",
                spec.label
              );
            })
          )
        : null
    );
  };
})(window.StashSense);
