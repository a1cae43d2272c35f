// ConfirmDialog: asks before a destructive action; `onConfirm` runs only on "yes".
(function (S) {
  "use strict";

  var h = S.h;

  S.components.ConfirmDialog = function ConfirmDialog(props) {
    var B = S.lib.Bootstrap;
    return h(
      B.Modal,
      { show: !!props.show, onHide: props.onCancel, centered: true, className: "stash-sense-confirm" },
      h(B.Modal.Header, { closeButton: true }, h(B.Modal.Title, null, props.title || "Are you sure?")),
      props.body ? h(B.Modal.Body, null, props.body) : null,
      h(
        B.Modal.Footer,
        null,
        h(B.Button, { variant: "secondary", onClick: props.onCancel }, props.cancelLabel || "Cancel"),
        h(B.Button, { variant: props.variant || "danger", onClick: props.onConfirm, autoFocus: true }, props.confirmLabel || "Confirm")
      )
    );
  };
})(window.StashSense);
